package service

import (
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

// A client's subject format (storage.Client.SubjectFormat) and its
// subject type (OIDC Registration §2 subject_type, the older setting that
// dynamic registration still uses) are one choice stored twice: the type
// is pairwise exactly when the format is pairwise. Either may be written;
// the other follows. Username and e-mail subjects are public identifiers
// (OIDC Core §8), so discovery's subject_types_supported is unchanged.

// applySubject applies the subject members of a patch: the one given
// decides, the other follows; both given are validated as they are.
func (p PresentationPatch) applySubject(in Presentation) Presentation {
	switch {
	case p.SubjectFormat != nil && p.SubjectType == nil:
		in.SubjectFormat = *p.SubjectFormat
		if in.SubjectType == SubjectPairwise || in.SubjectFormat == storage.SubjectFormatPairwise {
			in.SubjectType = ""
		}
	case p.SubjectType != nil && p.SubjectFormat == nil:
		in.SubjectType = *p.SubjectType
		switch {
		case in.SubjectType == SubjectPairwise:
			in.SubjectFormat = storage.SubjectFormatPairwise
		case in.SubjectFormat == storage.SubjectFormatPairwise:
			in.SubjectFormat = "" // back to the default, the user ID
		}
	default:
		setString(&in.SubjectType, p.SubjectType)
		setString(&in.SubjectFormat, p.SubjectFormat)
	}
	return subjectDefaults(in)
}

// subjectDefaults sets the subject type of a pairwise format, so that
// everything reading subject_type (the sector checks, OIDC Registration
// §5) sees the pairwise client.
func subjectDefaults(p Presentation) Presentation {
	if p.SubjectFormat == storage.SubjectFormatPairwise && p.SubjectType == "" {
		p.SubjectType = SubjectPairwise
	}
	return p
}

// validateSubjectFormat accepts the documented formats and refuses a
// format that contradicts the subject type given with it.
func validateSubjectFormat(v *validator, p Presentation) {
	if p.SubjectFormat == "" {
		return
	}
	if !v.check(slices.Contains(storage.SubjectFormats, p.SubjectFormat), "subject_format", "enum",
		"must be one of %s", strings.Join(storage.SubjectFormats, ", ")) {
		return
	}
	pairwise := p.SubjectFormat == storage.SubjectFormatPairwise
	v.check(pairwise == (p.SubjectType == SubjectPairwise), "subject_format", "conflict",
		"%q contradicts subject_type %q: send one of the two, or pairwise for both", p.SubjectFormat, p.SubjectType)
}

// SubjectFormatWarnings are the warnings an administrator sees about c's
// subject format, the same in the admin API (the client's "warnings"),
// the CLI and the console: a username or e-mail subject changes when the
// user is renamed, and a resource server keyed on sub then sees a new
// user.
func SubjectFormatWarnings(c storage.Client) []string {
	switch c.EffectiveSubjectFormat() {
	case storage.SubjectFormatUsername:
		return []string{"subject_format username: sub changes when the user's username changes, and the client then sees a different user; use id for a stable subject"}
	case storage.SubjectFormatEmail:
		return []string{"subject_format email: sub changes when the user's e-mail address changes, and the client then sees a different user; use id for a stable subject. Users without an e-mail address get invalid_grant"}
	}
	return nil
}
