package signing

import (
	"errors"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// ecdsaDERToJOSE turns an ECDSA signature in its ASN.1 form (the SEQUENCE
// of r and s that libcrypto returns) into the JWS form: r and s as
// big-endian integers of size bytes each, concatenated (RFC 7518 §3.4).
func ecdsaDERToJOSE(der []byte, size int) ([]byte, error) {
	var r, s big.Int
	var seq cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() {
		return nil, errors.New("signing: malformed ECDSA signature")
	}
	if r.Sign() <= 0 || s.Sign() <= 0 || r.BitLen() > 8*size || s.BitLen() > 8*size {
		return nil, errors.New("signing: ECDSA signature out of range")
	}
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out, nil
}
