package rs

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/statuslist"
)

// defaultListTTL is how long a Status List Token without ttl is used.
const defaultListTTL = time.Minute

// maxListTTL caps the ttl a list may ask for.
const maxListTTL = time.Hour

// maxLists bounds the cached lists (each up to statuslist.MaxDecoded).
const maxLists = 64

// statusCache holds the Status List Tokens of the issuer (draft
// §8: fetched with GET, cached for their ttl).
type statusCache struct {
	v *Verifier

	mu    sync.Mutex
	lists map[string]*list
}

type list struct {
	mu        sync.Mutex
	bits      int
	raw       []byte
	fetchedAt time.Time
	ttl       time.Duration
	exp       time.Time // zero: none
}

// check refuses a token whose status (draft §6.2) is not VALID (§7.1).
// Tokens without a status claim are not checked.
func (c *statusCache) check(ctx context.Context, tok *Token) error {
	claim, present := tok.Claims[statuslist.StatusClaim]
	if !present {
		return nil
	}
	uri, idx, ok := statuslist.Reference(claim)
	if !ok {
		return invalidToken("the access token's status claim is malformed")
	}
	// Only lists under the issuer are fetched: a token cannot make the
	// resource server request an arbitrary URL.
	if !strings.HasPrefix(uri, c.v.opts.Issuer+"/") {
		return invalidToken("the access token's status list is not the issuer's")
	}
	l := c.entry(uri)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := c.v.opts.Now()
	if l.raw == nil || !now.Before(l.fetchedAt.Add(l.ttl)) || now.Before(l.fetchedAt) {
		if err := c.fetch(ctx, l, uri, now); err != nil {
			if l.raw == nil || (!l.exp.IsZero() && !now.Before(l.exp)) {
				return err
			}
			// The issuer is unreachable: the last list serves until its exp.
		}
	}
	status, ok := statuslist.Bit(l.raw, l.bits, idx)
	if !ok {
		return invalidToken("the access token's status index is outside its status list")
	}
	if status != 0 {
		return invalidToken("the access token has been revoked")
	}
	return nil
}

func (c *statusCache) entry(uri string) *list {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lists == nil || len(c.lists) >= maxLists {
		c.lists = map[string]*list{}
	}
	l := c.lists[uri]
	if l == nil {
		l = &list{}
		c.lists[uri] = l
	}
	return l
}

// listClaims is a Status List Token's claims set (draft §5.1).
type listClaims struct {
	Subject    string       `json:"sub"`
	IssuedAt   *json.Number `json:"iat"`
	Expiry     *json.Number `json:"exp"`
	TTL        *json.Number `json:"ttl"`
	StatusList *struct {
		Bits int    `json:"bits"`
		Lst  string `json:"lst"`
	} `json:"status_list"`
}

// fetch gets and verifies the Status List Token at uri (draft §8.1, §5.1):
// typ statuslist+jwt, signed by the issuer's JWKS, sub equal to uri, iat
// present and not in the future, exp (when present) not passed, ttl
// positive, bits 1, 2, 4 or 8, lst a ZLIB-compressed byte array.
func (c *statusCache) fetch(ctx context.Context, l *list, uri string, now time.Time) error {
	body, _, err := c.v.get(ctx, uri, statuslist.MediaType)
	if err != nil {
		return errUnavailable(err)
	}
	payload, err := c.v.keys.verify(ctx, strings.TrimSpace(string(body)), []string{statuslist.JWTType, "application/" + statuslist.JWTType})
	if err != nil {
		return errUnavailable(err)
	}
	var lc listClaims
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&lc); err != nil || lc.StatusList == nil || lc.Subject != uri {
		return errUnavailable(err)
	}
	iat, ok := numericDate(lc.IssuedAt)
	if !ok || iat.After(now.Add(c.v.opts.Leeway)) {
		return errUnavailable(nil)
	}
	var exp time.Time
	if lc.Expiry != nil {
		if exp, ok = numericDate(lc.Expiry); !ok || !now.Before(exp.Add(c.v.opts.Leeway)) {
			return errUnavailable(nil)
		}
	}
	ttl := defaultListTTL
	if lc.TTL != nil {
		n, err := lc.TTL.Int64()
		if err != nil || n <= 0 {
			return errUnavailable(err)
		}
		ttl = min(time.Duration(n)*time.Second, maxListTTL)
	}
	switch lc.StatusList.Bits {
	case 1, 2, 4, 8:
	default:
		return errUnavailable(nil)
	}
	raw, err := statuslist.Decode(lc.StatusList.Lst)
	if err != nil {
		return errUnavailable(err)
	}
	l.bits, l.raw, l.fetchedAt, l.ttl, l.exp = lc.StatusList.Bits, raw, now, ttl, exp
	return nil
}
