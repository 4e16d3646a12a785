#ifndef TOKEND_COPENSSL_SHIM_H
#define TOKEND_COPENSSL_SHIM_H

// tokend keys HMAC-SHA256 by absorbing the ipad/opad blocks into two SHA256_CTX values once per
// key and copying those plain structs per message (RFC 2104's precomputation). OpenSSL 3 marks the
// low-level SHA256_* functions deprecated in favour of EVP, whose provider dispatch costs more
// than the hash of a JWT; they remain supported in 3.x, so the deprecation warnings are silenced
// here rather than paid for on every token.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/err.h>

#endif
