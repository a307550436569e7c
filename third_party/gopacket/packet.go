// Package gopacket is a stub of github.com/google/gopacket with only what
// gvisor-tap-vsock's debug logging names; see README.md.
package gopacket

import "fmt"

// Decoder stands for gopacket's first-layer decoder.
type Decoder interface{}

// DecodeOptions is accepted and ignored.
type DecodeOptions struct{}

// Default is gopacket's default decoding.
var Default DecodeOptions

// Packet is a frame that can describe itself.
type Packet interface{ String() string }

type raw []byte

func (r raw) String() string {
	return fmt.Sprintf("frame of %d bytes (den built without packet decoding)", len(r))
}

// NewPacket keeps the frame; it decodes nothing.
func NewPacket(data []byte, _ Decoder, _ DecodeOptions) Packet { return raw(data) }
