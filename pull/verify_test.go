package pull

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
)

func TestVerifierVerdicts(t *testing.T) {
	data := []byte("some layer bytes")
	sum := sha256.Sum256(data)
	d := "sha256:" + hex.EncodeToString(sum[:])
	if _, err := io.ReadAll(newVerifier(bytes.NewReader(data), d, int64(len(data)))); err != nil {
		t.Fatalf("good blob: %v", err)
	}
	bad := append([]byte{}, data...)
	bad[3] ^= 1
	if _, err := io.ReadAll(newVerifier(bytes.NewReader(bad), d, int64(len(data)))); err == nil || !strings.Contains(err.Error(), "does not match its digest") {
		t.Fatalf("tampered blob: %v", err)
	}
	if _, err := io.ReadAll(newVerifier(bytes.NewReader(data[:5]), d, int64(len(data)))); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated blob: %v", err)
	}
	v := newVerifier(bytes.NewReader(bad), d, int64(len(data)))
	v.Read(make([]byte, 2)) // a consumer gave up early
	if err := v.settle(); err == nil {
		t.Fatal("settle did not find the mismatch")
	}
}
