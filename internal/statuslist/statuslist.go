package statuslist

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ListSize is the number of 1-bit entries of one status list: 2^20 bits,
// 128 KiB before compression (a list of mostly valid tokens compresses to
// a few hundred bytes).
const ListSize = 1 << 20

// Path is the path segment of the status list endpoint under an issuer.
const Path = "/statuslists/"

// MediaType is the content type of a Status List Token in JWT format
// (draft §8.2) and JWTType its "typ" header (draft §5.1).
const (
	MediaType = "application/statuslist+jwt"
	JWTType   = "statuslist+jwt"
)

// Claim names of the Referenced Token (draft §6.1, §6.2).
const (
	StatusClaim     = "status"
	StatusListClaim = "status_list"
)

// MaxLists bounds the list numbers the endpoint serves, so that a path
// cannot name an absurd list: 2^20 lists of 2^20 entries each.
const MaxLists = 1 << 20

// URI is the URI of list number list of issuer (the Status List Token's
// sub, draft §5.1).
func URI(issuer string, list int64) string {
	return issuer + Path + strconv.FormatInt(list, 10)
}

// StatusClaimValue is the value of the "status" claim (draft §6.1): a
// struct, so that encoding it costs no map sorting on the token
// endpoint's hot path.
type StatusClaimValue struct {
	StatusList ListReference `json:"status_list"`
}

// ListReference is status.status_list (draft §6.2).
type ListReference struct {
	Idx int64  `json:"idx"`
	URI string `json:"uri"`
}

// Claim is the "status" claim of the token at global index idx (draft
// §6.2).
func Claim(issuer string, idx int64) StatusClaimValue {
	return StatusClaimValue{StatusList: ListReference{Idx: idx % ListSize, URI: URI(issuer, idx/ListSize)}}
}

// GlobalIndex turns the decoded "status" claim of a token issued by issuer
// back into the global index, or reports false when it is absent or does
// not point into issuer's lists.
func GlobalIndex(issuer string, claim any) (int64, bool) {
	uri, idx, ok := Reference(claim)
	if !ok || idx >= ListSize {
		return 0, false
	}
	rest, found := strings.CutPrefix(uri, issuer+Path)
	if !found {
		return 0, false
	}
	list, ok := ParseList(rest)
	if !ok {
		return 0, false
	}
	return list*ListSize + idx, true
}

// Reference reads status.status_list {uri, idx} from a decoded claim
// (JSON numbers as float64 or json.Number).
func Reference(claim any) (uri string, idx int64, ok bool) {
	status, _ := claim.(map[string]any)
	sl, _ := status[StatusListClaim].(map[string]any)
	if sl == nil {
		return "", 0, false
	}
	uri, _ = sl["uri"].(string)
	switch v := sl["idx"].(type) {
	case float64:
		if v < 0 || v != float64(int64(v)) || v > 1<<53 {
			return "", 0, false
		}
		idx = int64(v)
	case interface{ Int64() (int64, error) }:
		n, err := v.Int64()
		if err != nil || n < 0 {
			return "", 0, false
		}
		idx = n
	default:
		return "", 0, false
	}
	return uri, idx, uri != ""
}

// ParseList parses the {list} path segment: a decimal list number without
// sign or leading zeros, below the bound.
func ParseList(s string) (int64, bool) {
	if s == "" || len(s) > 7 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false // no sign, space or anything ParseInt would take
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n >= MaxLists {
		return 0, false
	}
	return n, true
}

// Encode builds the lst value of a list of size entries (draft §4.1):
// one bit per token, index i in byte i/8 at bit i%8 counted from the least
// significant bit, the byte array ZLIB-compressed (RFC 1950) at the best
// compression and base64url-encoded without padding. revoked holds
// positions within the list; positions outside [0, size) are ignored.
func Encode(size int64, revoked []int64) (string, error) {
	raw := make([]byte, (size+7)/8)
	for _, i := range revoked {
		if i >= 0 && i < size {
			raw[i/8] |= 1 << (i % 8)
		}
	}
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(raw); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// ErrMalformed is returned by Decode for an lst value that is not a
// base64url ZLIB stream of at most MaxDecoded bytes.
var ErrMalformed = errors.New("statuslist: malformed status list")

// MaxDecoded bounds the decompressed size of a list a verifier accepts
// (a ZLIB bomb guard): 16 MiB, 2^27 one-bit entries.
const MaxDecoded = 16 << 20

// Decode is the inverse of Encode: the uncompressed byte array.
func Decode(lst string) ([]byte, error) {
	compressed, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(lst, "="))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	defer zr.Close()
	raw, err := io.ReadAll(io.LimitReader(zr, MaxDecoded+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(raw) > MaxDecoded {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxDecoded)
	}
	return raw, nil
}

// Bit returns the status of position idx in a decoded list of bits-bit
// entries (draft §4.1); ok is false when idx is beyond the list.
func Bit(raw []byte, bits int, idx int64) (status byte, ok bool) {
	switch bits {
	case 1, 2, 4, 8:
	default:
		return 0, false
	}
	perByte := int64(8 / bits)
	if idx < 0 || idx/perByte >= int64(len(raw)) {
		return 0, false
	}
	shift := uint((idx % perByte) * int64(bits))
	mask := byte(1<<bits - 1)
	return (raw[idx/perByte] >> shift) & mask, true
}
