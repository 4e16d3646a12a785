#ifndef TOKEND_COPENSSL_SHIM_H
#define TOKEND_COPENSSL_SHIM_H

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

// tokend keys HMAC-SHA256 by absorbing the ipad/opad blocks into two SHA256_CTX values once per
// key and copying those plain structs per message (RFC 2104's precomputation). OpenSSL 3 marks the
// low-level SHA256_*/SHA512_* functions deprecated in favour of EVP, whose provider dispatch costs
// more than the hash of a JWT (measured by `swift run -c release tokend-bench`, which times the
// alternatives below beside this one); they remain supported in 3.x. The deprecation is silenced
// for these six calls only, here, and nowhere else.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
static inline int tokend_sha256_init(SHA256_CTX *c) { return SHA256_Init(c); }
static inline int tokend_sha256_update(SHA256_CTX *c, const void *data, size_t len) { return SHA256_Update(c, data, len); }
static inline int tokend_sha256_final(unsigned char *md, SHA256_CTX *c) { return SHA256_Final(md, c); }
static inline int tokend_sha512_init(SHA512_CTX *c) { return SHA512_Init(c); }
static inline int tokend_sha512_update(SHA512_CTX *c, const void *data, size_t len) { return SHA512_Update(c, data, len); }
static inline int tokend_sha512_final(unsigned char *md, SHA512_CTX *c) { return SHA512_Final(md, c); }
#pragma clang diagnostic pop

// The alternatives, for the benchmark only: EVP_MAC with one context keyed once and re-initialised
// per message (OpenSSL 3's recommended API), and the one-shot HMAC(), which keys on every call.
static inline EVP_MAC_CTX *tokend_bench_evp_hmac_new(const unsigned char *key, size_t key_length) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return NULL;
    EVP_MAC_CTX *context = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (context == NULL) return NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0), OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(context, key, key_length, params) != 1) { EVP_MAC_CTX_free(context); return NULL; }
    return context;
}

static inline int tokend_bench_evp_hmac(EVP_MAC_CTX *context, const unsigned char *message, size_t length, unsigned char *out) {
    size_t written = 0;
    return EVP_MAC_init(context, NULL, 0, NULL) == 1 && EVP_MAC_update(context, message, length) == 1
        && EVP_MAC_final(context, out, &written, 32) == 1 && written == 32;
}

static inline int tokend_bench_one_shot_hmac(const unsigned char *key, int key_length, const unsigned char *message, size_t length,
                                             unsigned char *out) {
    unsigned int written = 0;
    return HMAC(EVP_sha256(), key, key_length, message, length, out, &written) != NULL && written == 32;
}

#endif
