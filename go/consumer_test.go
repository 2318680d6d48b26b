package aerostack_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The consumer path: a throwaway module outside go/ requires the SDK (replace to this checkout),
// builds, and calls the platform.
func TestAConsumerModuleBuildsAndCalls(t *testing.T) {
	sdk, _ := filepath.Abs(".")
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/consumer\n\ngo 1.26\n\nrequire github.com/aerostack/aerostack-sdk/go v0.0.0\n\nreplace github.com/aerostack/aerostack-sdk/go => " + sdk + "\n",
		"main.go": `package main

import (
	"context"
	"fmt"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

func main() {
	p, err := aerostack.StartLocal(aerostack.LocalOptions{})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	c, err := p.Client()
	if err != nil {
		panic(err)
	}
	res, err := c.DB.Query(context.Background(), "SELECT 40 + 2 AS answer")
	if err != nil {
		panic(err)
	}
	fmt.Println("answer", res.Results[0]["answer"])
}
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "answer 42") {
		t.Fatalf("the consumer module: %v\n%s", err, out)
	}
}
