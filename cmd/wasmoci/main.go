// Command wasmoci packages a Wasm module as the OCI image that Istio
// (WasmPlugin, TrafficExtension), Envoy Gateway and Higress pull, and
// pushes it. No Docker daemon is involved.
//
//	wasmoci build [-wasm build/cors.wasm] [-layout build/oci]
//	wasmoci push [-layout build/oci] [-insecure] REF
//
// build writes an OCI image layout and prints the image's manifest digest
// (sha256:…), the value to pin in a deployment. The image is reproducible:
// the same module always gives the same digest. push sends the layout's
// image to REF (registry/repository[:tag]) with the credentials of
// ~/.docker/config.json or a credential helper, as docker and crane do, and
// prints REF's repository pinned to that digest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usageText = `usage:
  wasmoci build [-wasm build/cors.wasm] [-layout build/oci]
      write the OCI image of the module as an OCI layout; print its manifest digest
  wasmoci push [-layout build/oci] [-insecure] REF
      push the layout's image to REF (registry/repository[:tag]); print REF@digest
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	var err error
	switch args[0] {
	case "build":
		err = build(args[1:], stdout, stderr)
	case "push":
		err = push(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usageText)
		return 0
	default:
		fmt.Fprintf(stderr, "wasmoci: unknown command %q\n%s", args[0], usageText)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "wasmoci:", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

func flagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("wasmoci "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

func build(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("build", stderr)
	wasmPath := fs.String("wasm", "build/cors.wasm", "the Wasm module")
	dir := fs.String("layout", "build/oci", "the OCI layout directory to write (replaced if it holds one)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "wasmoci build: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	wasm, err := os.ReadFile(*wasmPath)
	if err != nil {
		return err
	}
	img, err := wasmImage(wasm)
	if err != nil {
		return fmt.Errorf("%s: %w", *wasmPath, err)
	}
	if err := clearLayout(*dir); err != nil {
		return err
	}
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})
	if _, err := layout.Write(*dir, idx); err != nil {
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, d)
	fmt.Fprintf(stderr, "wasmoci: %s: the OCI image of %s (%d bytes); pin its manifest digest, not the module's sha256:\n"+
		"  Istio, Higress: url: oci://REGISTRY/REPOSITORY@%s\n"+
		"  Envoy Gateway:  code.image.url: REGISTRY/REPOSITORY@%s\n",
		*dir, *wasmPath, len(wasm), d, d)
	return nil
}

// clearLayout removes dir if it holds an OCI layout (or nothing), so that
// no blob of an earlier build stays behind; any other directory is left
// alone and refused.
func clearLayout(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return fmt.Errorf("%s exists and is not an OCI layout: refusing to replace it", dir)
		}
	}
	return os.RemoveAll(dir)
}

func push(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("push", stderr)
	dir := fs.String("layout", "build/oci", "the OCI layout that wasmoci build wrote")
	insecure := fs.Bool("insecure", false, "allow a registry that speaks plain HTTP")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, "wasmoci push: want one REF, such as registry.example.com/platform/cors:TAG\n")
		return errUsage
	}
	var opts []name.Option
	if *insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(fs.Arg(0), opts...)
	if err != nil {
		return err
	}
	img, err := layoutImage(*dir)
	if err != nil {
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	if pinned, ok := ref.(name.Digest); ok && pinned.DigestStr() != d.String() {
		return fmt.Errorf("%s names digest %s, but %s holds %s", ref, pinned.DigestStr(), *dir, d)
	}
	if err := remote.Write(ref, img, remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithContext(context.Background())); err != nil {
		return err
	}
	fmt.Fprintln(stdout, ref.Context().Digest(d.String()))
	return nil
}

// layoutImage returns the one image of an OCI layout written by build.
func layoutImage(dir string) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (run wasmoci build, or make oci, first)", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) != 1 {
		return nil, fmt.Errorf("%s holds %d manifests, want the one wasmoci build writes", dir, len(m.Manifests))
	}
	return idx.Image(m.Manifests[0].Digest)
}
