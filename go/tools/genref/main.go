// Command genref writes go/API.md, the Go SDK's API reference (package internal/apiref does the
// work): `go run ./tools/genref` from go/ after changing an exported signature or doc comment;
// `-check` exits 1 when API.md is stale.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/aerostack/aerostack-sdk/go/internal/apiref"
)

func main() {
	check := flag.Bool("check", false, "exit 1 when API.md is stale instead of writing it")
	flag.Parse()
	root, err := apiref.Root(".")
	if err == nil {
		if *check {
			err = apiref.Check(root)
		} else {
			err = apiref.Write(root)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
