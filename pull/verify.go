package pull

import (
	"errors"
	"fmt"
	"io"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// verifier checks a blob against its digest and size as it streams, and
// keeps a plain verdict for the user: what is wrong with the blob, rather
// than the tar or gzip error its corruption caused further down.
type verifier struct {
	r    io.Reader
	want digest.Digest
	// A Digester rather than go-digest's Verifier: the verdict names the
	// digest actually received, which Verifier's yes/no does not give.
	d       digest.Digester // nil when the digest is unknown or not checkable
	size    int64           // -1 when unknown
	n       int64
	verdict error
}

func newVerifier(r io.Reader, want string, size int64) *verifier {
	v := &verifier{r: r, want: digest.Digest(want), size: size}
	if v.want.Validate() == nil {
		v.d = v.want.Algorithm().Digester()
	}
	return v
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.n += int64(n)
	if v.d != nil {
		v.d.Hash().Write(p[:n])
	}
	var verdict error
	switch {
	case errors.Is(err, io.EOF):
		verdict = v.atEOF()
	case err != nil:
		verdict = v.onError(err)
	}
	if verdict != nil {
		v.verdict = verdict
		return n, verdict
	}
	return n, err
}

func (v *verifier) atEOF() error {
	if v.size >= 0 && v.n < v.size {
		return fmt.Errorf("download ended after %d of %d bytes (truncated)", v.n, v.size)
	}
	if v.d != nil {
		if got := v.d.Digest(); got != v.want {
			return fmt.Errorf("blob does not match its digest: got %s (corrupt or tampered in transit)", short(got.String()))
		}
	}
	return nil
}

// onError translates the registry client's own checks, which fire before
// this reader sees EOF, into the same verdicts.
func (v *verifier) onError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "verifying") && strings.Contains(msg, "checksum"):
		return fmt.Errorf("blob does not match its digest (corrupt or tampered in transit)")
	case v.size >= 0 && v.n < v.size && (errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(msg, "unexpected EOF") || strings.Contains(msg, "verifying size")):
		return fmt.Errorf("download ended after %d of %d bytes (truncated)", v.n, v.size)
	}
	return nil
}

// settle reads what is left of a blob whose unpacking failed, to tell a
// corrupt blob from a bad layer; it returns the blob's verdict, if any.
func (v *verifier) settle() error {
	if v.verdict == nil {
		_, _ = io.Copy(io.Discard, v)
	}
	return v.verdict
}
