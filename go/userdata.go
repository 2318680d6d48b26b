package aerostack

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"

	"github.com/aerostack/aerostack-sdk/go/internal/ffi"
)

// Where the user's own data is in what the engine hands out, per result type: the surface's
// table (bindings/common/src/user_data.rs), read from the library once. Every other key is the
// SDK's and is a Go field of the result structs (results.go); the values at these paths are
// Record/any and come back exactly as stored. TestResultStructsFollowUserData checks the structs
// against this table.
type shapeTables struct {
	Times    map[string][]string `json:"times"`
	UserData map[string][]string `json:"user_data"`
	// timeSteps is Times with each path split into its steps once.
	timeSteps map[string][][]string
}

var resultTables = sync.OnceValue(func() shapeTables {
	initLibrary()
	var t shapeTables
	raw, err := ffi.ResultPaths()
	if err == nil {
		err = json.Unmarshal(raw, &t)
	}
	if err != nil {
		// The tables are compiled into the library: failing to read them is a broken build.
		panic("aerostack: cannot read the result tables from the library: " + err.Error())
	}
	t.timeSteps = map[string][][]string{}
	for kind, paths := range t.Times {
		for _, p := range paths {
			t.timeSteps[kind] = append(t.timeSteps[kind], strings.Split(p, "."))
		}
	}
	return t
})

// strictResults makes the result decoding refuse keys the result structs do not know (outside
// the user's data, which is Record/any). Off for users, so a field a newer engine adds is
// ignored; the package's tests turn it on, so such a field fails them until the struct has it.
var strictResults = false

// decodeResult decodes an engine answer into out (strictly under the tests).
func decodeResult(data []byte, out any) error {
	if !strictResults {
		return jsonUnmarshal(data, out)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	return d.Decode(out)
}
