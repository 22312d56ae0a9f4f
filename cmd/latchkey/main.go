// Command latchkey is the Latchkey authorization server and its
// administration tool. Everything lives in package cli.
package main

import "github.com/latchkey/latchkey/internal/cli"

func main() { cli.Execute() }
