// Command probe prints its effective uid; the e2e tests install it
// setuid-root in an image.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("euid=%d\n", os.Geteuid())
}
