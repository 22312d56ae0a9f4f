package storage

// Subject formats of a client (Client.SubjectFormat): what the sub of its
// user tokens names. Username and email are public identifiers (OIDC
// Core §8) that change when the user is renamed; id and pairwise do not.
const (
	SubjectFormatID       = "id"
	SubjectFormatUsername = "username"
	SubjectFormatEmail    = "email"
	SubjectFormatPairwise = "pairwise"
)

// SubjectFormats lists the formats in the order people are offered them.
var SubjectFormats = []string{SubjectFormatID, SubjectFormatUsername, SubjectFormatEmail, SubjectFormatPairwise}

// EffectiveSubjectFormat is the client's subject format: SubjectFormat
// when set, else pairwise for a client saved with subject_type pairwise
// before formats existed, else the user ID.
func (c Client) EffectiveSubjectFormat() string {
	switch {
	case c.SubjectFormat != "":
		return c.SubjectFormat
	case c.SubjectType == SubjectFormatPairwise:
		return SubjectFormatPairwise
	}
	return SubjectFormatID
}
