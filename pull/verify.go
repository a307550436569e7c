package pull

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// verifier checks a blob against its digest and size as it streams, and
// keeps a plain verdict for the user: what is wrong with the blob, rather
// than the tar or gzip error its corruption caused further down.
type verifier struct {
	r       io.Reader
	digest  string // "sha256:..."; "" when unknown
	size    int64  // -1 when unknown
	h       hash.Hash
	n       int64
	verdict error
}

func newVerifier(r io.Reader, digest string, size int64) *verifier {
	return &verifier{r: r, digest: digest, size: size, h: sha256.New()}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.n += int64(n)
	v.h.Write(p[:n])
	switch {
	case errors.Is(err, io.EOF):
		if v.size >= 0 && v.n < v.size {
			v.verdict = fmt.Errorf("download ended after %d of %d bytes (truncated)", v.n, v.size)
		} else if got := "sha256:" + hex.EncodeToString(v.h.Sum(nil)); strings.HasPrefix(v.digest, "sha256:") && got != v.digest {
			v.verdict = fmt.Errorf("blob does not match its digest: got %s (corrupt or tampered in transit)", short(got))
		}
		if v.verdict != nil {
			return n, v.verdict
		}
	case err != nil:
		msg := err.Error()
		switch {
		case strings.Contains(msg, "verifying") && strings.Contains(msg, "checksum"):
			v.verdict = fmt.Errorf("blob does not match its digest (corrupt or tampered in transit)")
		case v.size >= 0 && v.n < v.size && (errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(msg, "unexpected EOF") || strings.Contains(msg, "verifying size")):
			v.verdict = fmt.Errorf("download ended after %d of %d bytes (truncated)", v.n, v.size)
		}
		if v.verdict != nil {
			return n, v.verdict
		}
	}
	return n, err
}

// settle reads what is left of a blob whose unpacking failed, to tell a
// corrupt blob from a bad layer; it returns the blob's verdict, if any.
func (v *verifier) settle() error {
	if v.verdict == nil {
		_, _ = io.Copy(io.Discard, v)
	}
	return v.verdict
}
