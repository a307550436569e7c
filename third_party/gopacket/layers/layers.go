// Package layers is a stub of gopacket/layers; see ../README.md.
package layers

// LayerType names a protocol layer.
type LayerType int

// LayerTypeEthernet is the first layer of a tap frame.
const LayerTypeEthernet LayerType = 1
