//go:build linux && cgo

package signing

// This file binds the system's OpenSSL 3 libcrypto for private-key
// signatures: it loads libcrypto.so.3 with dlopen at start, so the binary
// neither links against OpenSSL nor needs its headers to build, and runs
// unchanged (on Go's crypto) on a machine without it. It implements no
// cryptography: keys are handed to OpenSSL as PKCS#8 DER and signatures
// come back in the encodings the JOSE algorithms define (RFC 7518 §3.3 for
// RSASSA-PKCS1-v1_5, §3.5 for PSS, §3.4 for ECDSA, RFC 8037 §3.1 for
// EdDSA). Differential tests check every algorithm against Go's verifier
// and PKCS#1 v1.5 byte for byte against Go's signer (openssl_test.go).

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

typedef struct lk_evp_pkey lk_evp_pkey;
typedef struct lk_evp_md lk_evp_md;
typedef struct lk_evp_md_ctx lk_evp_md_ctx;
typedef struct lk_evp_pkey_ctx lk_evp_pkey_ctx;

static lk_evp_pkey *(*p_d2i_AutoPrivateKey)(lk_evp_pkey **, const unsigned char **, long);
static void (*p_EVP_PKEY_free)(lk_evp_pkey *);
static lk_evp_md_ctx *(*p_EVP_MD_CTX_new)(void);
static void (*p_EVP_MD_CTX_free)(lk_evp_md_ctx *);
static int (*p_EVP_DigestSignInit)(lk_evp_md_ctx *, lk_evp_pkey_ctx **, const lk_evp_md *, void *, lk_evp_pkey *);
static int (*p_EVP_DigestSign)(lk_evp_md_ctx *, unsigned char *, size_t *, const unsigned char *, size_t);
static int (*p_EVP_PKEY_CTX_set_rsa_padding)(lk_evp_pkey_ctx *, int);
static int (*p_EVP_PKEY_CTX_set_rsa_pss_saltlen)(lk_evp_pkey_ctx *, int);
static lk_evp_md *(*p_EVP_MD_fetch)(void *, const char *, const char *);
static const char *(*p_OpenSSL_version)(int);
static int (*p_EVP_MD_CTX_copy_ex)(lk_evp_md_ctx *, const lk_evp_md_ctx *);
static void (*p_ERR_clear_error)(void);

// lk_md holds the digests fetched once at load (OpenSSL 3 fetches an
// algorithm on every call given a legacy EVP_sha256(), under a lock):
// 0 is none (EdDSA), 1 SHA-256.
static const lk_evp_md *lk_md[2];

#define LK_SYM(name) do { *(void **)(&p_##name) = dlsym(lib, #name); if (!p_##name) return 2; } while (0)

// lk_load opens libcrypto and resolves every function; 0 means ready.
static int lk_load(const char *path) {
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib) return 1;
	LK_SYM(d2i_AutoPrivateKey);
	LK_SYM(EVP_PKEY_free);
	LK_SYM(EVP_MD_CTX_new);
	LK_SYM(EVP_MD_CTX_free);
	LK_SYM(EVP_DigestSignInit);
	LK_SYM(EVP_DigestSign);
	LK_SYM(EVP_PKEY_CTX_set_rsa_padding);
	LK_SYM(EVP_PKEY_CTX_set_rsa_pss_saltlen);
	LK_SYM(EVP_MD_fetch);
	LK_SYM(OpenSSL_version);
	LK_SYM(EVP_MD_CTX_copy_ex);
	LK_SYM(ERR_clear_error);
	lk_md[1] = p_EVP_MD_fetch(NULL, "SHA2-256", NULL);
	if (!lk_md[1]) return 3;
	return 0;
}

static const char *lk_version(void) { return p_OpenSSL_version(0); }

static lk_evp_pkey *lk_parse_pkcs8(const unsigned char *der, long n) {
	const unsigned char *p = der;
	lk_evp_pkey *k = p_d2i_AutoPrivateKey(NULL, &p, n);
	if (!k) p_ERR_clear_error();
	return k;
}

static void lk_free_key(lk_evp_pkey *k) { p_EVP_PKEY_free(k); }

// lk_template returns a signing context initialised once for k, which
// lk_sign_from copies for each signature: initialising looks the signature
// algorithm up in the provider store, which costs as much as an ECDSA
// signature, while a copy duplicates the ready context.
static lk_evp_md_ctx *lk_template(lk_evp_pkey *k, int md, int pss) {
	lk_evp_md_ctx *ctx = p_EVP_MD_CTX_new();
	if (!ctx) return NULL;
	lk_evp_pkey_ctx *pctx = NULL;
	int ok = p_EVP_DigestSignInit(ctx, &pctx, lk_md[md], NULL, k) == 1;
	if (ok && pss) {
		ok = p_EVP_PKEY_CTX_set_rsa_padding(pctx, 6) == 1 &&
			p_EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, -1) == 1;
	}
	if (!ok) {
		p_EVP_MD_CTX_free(ctx);
		p_ERR_clear_error();
		return NULL;
	}
	return ctx;
}

static void lk_free_ctx(lk_evp_md_ctx *ctx) { p_EVP_MD_CTX_free(ctx); }

static int lk_sign_from(const lk_evp_md_ctx *tmpl, const unsigned char *msg, size_t msglen,
		unsigned char *sig, size_t *siglen) {
	lk_evp_md_ctx *ctx = p_EVP_MD_CTX_new();
	if (!ctx) return 0;
	int ok = p_EVP_MD_CTX_copy_ex(ctx, tmpl) == 1 && p_EVP_DigestSign(ctx, sig, siglen, msg, msglen) == 1;
	p_EVP_MD_CTX_free(ctx);
	if (!ok) p_ERR_clear_error();
	return ok;
}

// lk_sign signs msg with k in one call (digest and signature); pss selects
// RSASSA-PSS with a salt as long as the digest (RFC 7518 §3.5). On entry
// *siglen is the capacity of sig; on success it is the signature's length.
static int lk_sign(lk_evp_pkey *k, int md, int pss, const unsigned char *msg, size_t msglen,
		unsigned char *sig, size_t *siglen) {
	lk_evp_md_ctx *ctx = p_EVP_MD_CTX_new();
	if (!ctx) return 0;
	lk_evp_pkey_ctx *pctx = NULL;
	int ok = p_EVP_DigestSignInit(ctx, &pctx, lk_md[md], NULL, k) == 1;
	if (ok && pss) {
		ok = p_EVP_PKEY_CTX_set_rsa_padding(pctx, 6) == 1 &&      // RSA_PKCS1_PSS_PADDING
			p_EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, -1) == 1;  // RSA_PSS_SALTLEN_DIGEST
	}
	if (ok) ok = p_EVP_DigestSign(ctx, sig, siglen, msg, msglen) == 1;
	p_EVP_MD_CTX_free(ctx);
	if (!ok) p_ERR_clear_error();
	return ok;
}
*/
import "C"

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/go-jose/go-jose/v4"
)

// libcryptoNames are tried in order; only OpenSSL 3 exports every function
// lk_load resolves.
var libcryptoNames = []string{"libcrypto.so.3"}

// useTemplates makes each key keep a context initialised once, copied
// per signature (lk_template); a variable so that a benchmark can compare.
var useTemplates = true

var (
	loadOnce    sync.Once
	loadVersion string
	loadErr     error
)

// loadOpenSSL opens libcrypto once and reports its version, or why it is
// not usable.
func loadOpenSSL() (string, error) {
	loadOnce.Do(func() { loadVersion, loadErr = openLibcrypto(libcryptoNames) })
	return loadVersion, loadErr
}

// openLibcrypto loads the first of names that dlopen finds. A library
// that loads but lacks a function is an error, not a reason to try the
// next: the function pointers are set only on full success.
func openLibcrypto(names []string) (string, error) {
	for _, name := range names {
		cname := C.CString(name)
		rc := C.lk_load(cname)
		C.free(unsafe.Pointer(cname))
		switch rc {
		case 0:
			return C.GoString(C.lk_version()), nil
		case 2, 3:
			return "", fmt.Errorf("%s lacks an OpenSSL 3 function or digest", name)
		}
	}
	return "", fmt.Errorf("%s not found", strings.Join(names, ", "))
}

// opensslKey is a private key held by libcrypto, signing for one JWS
// algorithm. It implements jose.OpaqueSigner, so go-jose builds the JWS
// around it exactly as around a Go key.
type opensslKey struct {
	pkey   *C.lk_evp_pkey
	tmpl   *C.lk_evp_md_ctx // nil: initialise a context per signature
	alg    jose.SignatureAlgorithm
	md     C.int // index into lk_md
	pss    bool
	ecSize int // bytes per ECDSA coordinate; 0 for RSA and EdDSA
	sigCap int
	pub    jose.JSONWebKey
}

var _ jose.OpaqueSigner = (*opensslKey)(nil)

// newOpenSSLKey hands priv to libcrypto for signing with alg.
func newOpenSSLKey(priv crypto.Signer, alg string, pub jose.JSONWebKey) (jose.OpaqueSigner, error) {
	if _, err := loadOpenSSL(); err != nil {
		return nil, err
	}
	k := &opensslKey{alg: jose.SignatureAlgorithm(alg), pub: pub}
	if err := k.setAlgorithm(priv); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signing: openssl: encode key: %w", err)
	}
	k.pkey = C.lk_parse_pkcs8((*C.uchar)(unsafe.Pointer(&der[0])), C.long(len(der)))
	clear(der)
	if k.pkey == nil {
		return nil, errors.New("signing: openssl: libcrypto refused the key")
	}
	runtime.AddCleanup(k, func(p *C.lk_evp_pkey) { C.lk_free_key(p) }, k.pkey)
	if useTemplates {
		pss := C.int(0)
		if k.pss {
			pss = 1
		}
		if k.tmpl = C.lk_template(k.pkey, k.md, pss); k.tmpl != nil {
			runtime.AddCleanup(k, func(c *C.lk_evp_md_ctx) { C.lk_free_ctx(c) }, k.tmpl)
		}
	}
	return k, nil
}

// setAlgorithm picks the digest, padding and signature size of alg for
// the key type (RFC 7518 §3.1, RFC 8037 §3.1).
func (k *opensslKey) setAlgorithm(priv crypto.Signer) error {
	// The algorithms ValidAlg admits: SHA-256 for all but EdDSA, whose
	// signature hashes internally (libcrypto takes no digest for it).
	switch k.alg {
	case jose.RS256, jose.PS256, jose.ES256:
		k.md = 1
	case jose.EdDSA:
		k.md = 0
	default:
		return fmt.Errorf("%w: %q", ErrUnsupportedAlg, k.alg)
	}
	k.pss = k.alg == jose.PS256
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		k.sigCap = p.Size()
	case *ecdsa.PrivateKey:
		k.ecSize = (p.Curve.Params().BitSize + 7) / 8
		k.sigCap = 2*k.ecSize + 16 // the DER SEQUENCE of two INTEGERs
	case ed25519.PrivateKey:
		k.sigCap = ed25519.SignatureSize
	default:
		return fmt.Errorf("%w: %T", ErrUnsupportedAlg, priv)
	}
	return nil
}

// Public is the key's public JWK (jose.OpaqueSigner).
func (k *opensslKey) Public() *jose.JSONWebKey { return &k.pub }

// Algs is the one algorithm the key signs with (jose.OpaqueSigner).
func (k *opensslKey) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{k.alg} }

// SignPayload signs the JWS signing input (jose.OpaqueSigner).
func (k *opensslKey) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != k.alg {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
	}
	sig := make([]byte, k.sigCap)
	n := C.size_t(len(sig))
	var msg *C.uchar
	if len(payload) > 0 {
		msg = (*C.uchar)(unsafe.Pointer(&payload[0]))
	}
	pss := C.int(0)
	if k.pss {
		pss = 1
	}
	var ok C.int
	if k.tmpl != nil {
		ok = C.lk_sign_from(k.tmpl, msg, C.size_t(len(payload)), (*C.uchar)(unsafe.Pointer(&sig[0])), &n)
	} else {
		ok = C.lk_sign(k.pkey, k.md, pss, msg, C.size_t(len(payload)), (*C.uchar)(unsafe.Pointer(&sig[0])), &n)
	}
	if ok != 1 {
		return nil, errors.New("signing: openssl: signature failed")
	}
	runtime.KeepAlive(k)
	sig = sig[:n]
	if k.ecSize > 0 {
		return ecdsaDERToJOSE(sig, k.ecSize)
	}
	return sig, nil
}
