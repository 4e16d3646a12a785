// Mint a tokend token from a Go backend with the standard library only: crypto/hmac,
// crypto/sha256 and net/http.
//
//	TOKEND_URL=http://127.0.0.1:8080 TOKEND_API_KEY=tkd_... go run . alice [bob ...]
//	TOKEND_URL=... TOKEND_KEY_ID=my-backend TOKEND_HMAC_SECRET=... go run . alice
//
// With TOKEND_API_KEY it sends the API key; with TOKEND_KEY_ID and TOKEND_HMAC_SECRET it signs
// every request (RFC 9421, hmac-sha256). Prints one token per identity, a line each.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// TokenAnswer is tokend's 200 answer.
type TokenAnswer struct {
	Token     string   `json:"token"`
	Identity  string   `json:"identity"`
	TTL       int      `json:"ttl"`
	ExpiresAt string   `json:"expires_at"`
	Warnings  []string `json:"warnings"`
}

// SignRequest adds RFC 9421 headers covering @method, @target-uri and content-digest. The
// created time and a random nonce make every signature unique: tokend accepts a signature (and
// a nonce) once, so a second identical request, or a retry, must be signed again.
func SignRequest(request *http.Request, body []byte, keyID, secret string) {
	sum := sha256.Sum256(body)
	digest := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	params := fmt.Sprintf(`("@method" "@target-uri" "content-digest");created=%d;keyid=%q;alg="hmac-sha256";nonce=%q`,
		time.Now().Unix(), keyID, base64.RawURLEncoding.EncodeToString(nonce))
	signatureBase := strings.Join([]string{
		`"@method": ` + request.Method,
		`"@target-uri": ` + request.URL.String(), // scheme, host[:port] and path, as sent
		`"content-digest": ` + digest,
		`"@signature-params": ` + params,
	}, "\n")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signatureBase))
	request.Header.Set("Content-Digest", digest)
	request.Header.Set("Signature-Input", "sig1="+params)
	request.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(mac.Sum(nil))+":")
}

// Mint asks tokend for a token, retrying 429 (after Retry-After), 503 and network errors; each
// attempt is built and signed anew.
func Mint(client *http.Client, identity string, grants map[string]any) (*TokenAnswer, error) {
	url := strings.TrimSuffix(envOr("TOKEND_URL", "http://127.0.0.1:8080"), "/") + "/v1/tokens"
	body, err := json.Marshal(map[string]any{"identity": identity, "ttl": 3600, "grants": grants})
	if err != nil {
		return nil, err
	}
	const attempts = 4
	for attempt := 1; ; attempt++ {
		request, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		request.Header.Set("Content-Type", "application/json")
		if key := os.Getenv("TOKEND_API_KEY"); key != "" {
			request.Header.Set("Authorization", "Bearer "+key)
		} else {
			SignRequest(request, body, os.Getenv("TOKEND_KEY_ID"), os.Getenv("TOKEND_HMAC_SECRET"))
		}
		response, err := client.Do(request)
		if err != nil {
			if attempt >= attempts {
				return nil, err
			}
			time.Sleep(time.Duration(attempt) * 500 * time.Millisecond)
			continue
		}
		var answer struct {
			TokenAnswer
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		decodeErr := json.NewDecoder(response.Body).Decode(&answer)
		response.Body.Close()
		if (response.StatusCode == 429 || response.StatusCode == 503) && attempt < attempts {
			seconds, parseErr := strconv.Atoi(response.Header.Get("Retry-After"))
			if parseErr != nil {
				seconds = attempt
			}
			time.Sleep(time.Duration(seconds) * time.Second)
			continue
		}
		if response.StatusCode != 200 {
			return nil, fmt.Errorf("tokend answered %d: %s", response.StatusCode, answer.Error.Message)
		}
		if decodeErr != nil {
			return nil, decodeErr
		}
		return &answer.TokenAnswer, nil
	}
}

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func main() {
	client := &http.Client{Timeout: 10 * time.Second}
	identities := os.Args[1:]
	if len(identities) == 0 {
		identities = []string{"alice"}
	}
	for _, identity := range identities {
		answer, err := Mint(client, identity, map[string]any{"data_sync": map[string]any{}})
		if err != nil {
			fmt.Fprintln(os.Stderr, "mint:", err)
			os.Exit(1)
		}
		for _, warning := range answer.Warnings {
			fmt.Fprintln(os.Stderr, "warning:", warning)
		}
		fmt.Println(answer.Token)
	}
}
