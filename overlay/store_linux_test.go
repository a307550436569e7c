package overlay

import (
	"errors"
	"fmt"
	"testing"

	"go.podman.io/storage/types"
)

// The fuse-overlayfs fallback must trigger on the kernel's refusals of
// overlay in a user namespace, and on nothing else.
func TestOverlayRefusalsChooseTheFallback(t *testing.T) {
	cases := map[error]bool{
		fmt.Errorf("driver: %w", types.ErrNotSupported):                                      true,
		errors.New("kernel does not support overlay fs: overlay: not supported"):             true,
		errors.New("overlay: failed to mount: operation not permitted"):                      true,
		errors.New("mkdir /home/u/.local/share/den/storage: permission denied"):              false,
		errors.New("layer not known"):                                                        false,
		errors.New("open /home/u/.local/share/den/storage/overlay: no space left on device"): false,
	}
	for err, want := range cases {
		if got := isOverlayUnsupported(err); got != want {
			t.Errorf("isOverlayUnsupported(%q) = %v, want %v", err, got, want)
		}
	}
}
