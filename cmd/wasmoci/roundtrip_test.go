package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// istioFetch pulls an oci:// URL as Istio's Wasm cache does (istio
// pkg/wasm/cache.go getOrFetch, pkg/wasm/imagefetcher.go PrepareFetch;
// Envoy Gateway's internal/wasm and Higress carry copies): the manifest
// digest is the checksum compared with the pinned one (the URL's @sha256:
// or the resource's sha256 field); a Docker schema 2 manifest needs a
// Docker layer, anything else is tried as the "compat" variant (the last
// layer an OCI tar+gzip layer with plugin.wasm in it) and then as the
// "oci" variant (exactly two layers, one of them raw Wasm); the module
// must start with the Wasm magic.
func istioFetch(ociURL, checksum string) ([]byte, error) {
	u, err := url.Parse(ociURL)
	if err != nil || u.Scheme != "oci" {
		return nil, fmt.Errorf("not an oci:// URL: %q", ociURL)
	}
	if checksum == "" {
		if d, err := name.NewDigest(u.Host + u.Path); err == nil {
			checksum = strings.TrimPrefix(d.DigestStr(), "sha256:")
		}
	}
	ref, err := name.ParseReference(u.Host + u.Path)
	if err != nil {
		return nil, fmt.Errorf("could not parse url in image reference: %v", err)
	}
	desc, err := remote.Get(ref)
	if err != nil {
		return nil, fmt.Errorf("could not fetch manifest: %v", err)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("could not fetch image: %v", err)
	}
	d, _ := img.Digest()
	if checksum != "" && d.Hex != checksum {
		return nil, fmt.Errorf("module downloaded from %v has checksum %v, which does not match: %v", ociURL, d.Hex, checksum)
	}
	manifest, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	var b []byte
	if manifest.MediaType == types.DockerManifestSchema2 {
		b, err = lastLayerWasm(img, types.DockerLayer)
	} else {
		var errCompat, errOCI error
		if b, errCompat = lastLayerWasm(img, types.OCILayer); errCompat != nil {
			if b, errOCI = ociVariantWasm(img); errOCI != nil {
				err = fmt.Errorf("the given image is in invalid format as an OCI image: could not parse as compat variant: %v; could not parse as oci variant: %v", errCompat, errOCI)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if len(b) < 8 || !bytes.Equal(b[:4], []byte{0x00, 0x61, 0x73, 0x6d}) {
		return nil, fmt.Errorf("fetched Wasm binary from %s is invalid", ociURL)
	}
	return b, nil
}

// lastLayerWasm is extractOCIStandardImage and extractDockerImage.
func lastLayerWasm(img v1.Image, want types.MediaType) ([]byte, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	if len(layers) == 0 {
		return nil, errors.New("number of layers must be greater than zero")
	}
	layer := layers[len(layers)-1]
	mt, err := layer.MediaType()
	if err != nil {
		return nil, err
	}
	if mt != want {
		return nil, fmt.Errorf("invalid media type %s (expect %s)", mt, want)
	}
	r, err := layer.Compressed()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	gr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("failed to parse layer as tar.gz: %v", err)
	}
	tr := tar.NewReader(gr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		if filepath.Base(h.Name) == "plugin.wasm" {
			ret := make([]byte, h.Size)
			if _, err := io.ReadFull(tr, ret); err != nil {
				return nil, err
			}
			return ret, nil
		}
	}
	return nil, errors.New("plugin.wasm not found in the archive")
}

// ociVariantWasm is extractOCIArtifactImage.
func ociVariantWasm(img v1.Image) ([]byte, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	if len(layers) != 2 {
		return nil, fmt.Errorf("number of layers must be 2 but got %d", len(layers))
	}
	for _, l := range layers {
		if mt, _ := l.MediaType(); mt == "application/vnd.module.wasm.content.layer.v1+wasm" {
			r, err := l.Compressed()
			if err != nil {
				return nil, err
			}
			defer r.Close()
			return io.ReadAll(r)
		}
	}
	return nil, errors.New("could not find the layer of type application/vnd.module.wasm.content.layer.v1+wasm")
}

// testModule returns build/cors.wasm, or, when it has not been built (and
// CORS_REQUIRE_WASM is not 1), a small valid module.
func testModule(t *testing.T) []byte {
	t.Helper()
	wasm, err := os.ReadFile("../../build/cors.wasm")
	if err == nil {
		return wasm
	}
	if os.Getenv("CORS_REQUIRE_WASM") == "1" {
		t.Fatalf("build/cors.wasm is missing (CORS_REQUIRE_WASM=1): run make build")
	}
	t.Logf("build/cors.wasm is missing: using a minimal module")
	// The empty module, with a custom section so that it is not all header.
	return []byte{0x00, 'a', 's', 'm', 1, 0, 0, 0, 0, 5, 4, 'c', 'o', 'r', 's'}
}

// wasmoci runs the command as a user would, returning its stdout.
func wasmoci(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("wasmoci %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

func quietRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestRoundTrip builds the image of cors.wasm with wasmoci build, pushes it
// with wasmoci push to an in-process registry, and pulls it back by digest
// and by tag with the rules of Istio's fetcher, which Envoy Gateway and
// Higress share: what comes back is the module, byte for byte.
func TestRoundTrip(t *testing.T) {
	wasm := testModule(t)
	dir := t.TempDir()
	module := filepath.Join(dir, "cors.wasm")
	if err := os.WriteFile(module, wasm, 0o600); err != nil {
		t.Fatal(err)
	}
	oci := filepath.Join(dir, "oci")
	digest := wasmoci(t, "build", "-wasm", module, "-layout", oci)
	if !strings.HasPrefix(digest, "sha256:") || len(digest) != len("sha256:")+64 {
		t.Fatalf("wasmoci build printed %q, want the manifest digest sha256:<64 hex>", digest)
	}

	host := quietRegistry(t)
	pushed := wasmoci(t, "push", "-layout", oci, host+"/platform/cors:test")
	if want := host + "/platform/cors@" + digest; pushed != want {
		t.Errorf("wasmoci push printed %q, want %q", pushed, want)
	}

	for _, u := range []struct{ url, checksum string }{
		{"oci://" + pushed, ""}, // the digest in the URL
		{"oci://" + host + "/platform/cors:test", strings.TrimPrefix(digest, "sha256:")}, // a tag and the sha256 field
		{"oci://" + host + "/platform/cors:test", ""},                                    // a tag alone
	} {
		got, err := istioFetch(u.url, u.checksum)
		if err != nil {
			t.Errorf("fetch %s (sha256 %q): %v", u.url, u.checksum, err)
			continue
		}
		if !bytes.Equal(got, wasm) {
			t.Errorf("fetch %s: got %d bytes that are not the module (%d bytes)", u.url, len(got), len(wasm))
		}
	}

	// The module's own sha256 is not the checksum the fetcher compares.
	if _, err := istioFetch("oci://"+host+"/platform/cors:test", fmt.Sprintf("%x", sha256.Sum256(wasm))); err == nil ||
		!strings.Contains(err.Error(), "does not match") {
		t.Errorf("pinning the module's sha256 instead of the manifest digest: err = %v, want a checksum mismatch", err)
	}

	// The manifest and the layer, as the fetchers read them.
	ref, err := name.ParseReference(pushed)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("manifest %s with config %s, want an OCI image manifest and config", m.MediaType, m.Config.MediaType)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != types.OCILayer {
		t.Fatalf("layers %+v, want one %s", m.Layers, types.OCILayer)
	}
	checkLayer(t, img)
}

// checkLayer requires the layer's fixed fields: the gzip header (no name,
// no comment, mtime 0, OS unknown) and the tar entry (a regular file
// plugin.wasm, mode 0644, mtime 0, owner 0:0 with no names).
func checkLayer(t *testing.T, img v1.Image) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	r, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	gr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	if h := gr.Header; h.Name != "" || h.Comment != "" || !h.ModTime.IsZero() || h.OS != 255 || h.Extra != nil {
		t.Errorf("gzip header %+v, want no name, comment or extra, mtime 0 and OS 255", h)
	}
	tr := tar.NewReader(gr)
	h, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != "plugin.wasm" || h.Typeflag != tar.TypeReg || h.Mode != 0o644 || !h.ModTime.Equal(time.Unix(0, 0)) ||
		h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || len(h.PAXRecords) != 0 {
		t.Errorf("tar entry %+v, want plugin.wasm, a regular file, mode 0644, mtime 0, owner 0:0 without names, no PAX records", h)
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("the layer holds more than plugin.wasm: %v", err)
	}
}

// TestReproducible builds the image twice, from copies of the module with
// other modes and mtimes, at other times and under another time zone: the
// digests and the layouts' files are the same.
func TestReproducible(t *testing.T) {
	wasm := testModule(t)
	var digests []string
	var layouts []string
	for i, mode := range []fs.FileMode{0o600, 0o755} {
		dir := t.TempDir()
		module := filepath.Join(dir, "cors.wasm")
		if err := os.WriteFile(module, wasm, mode); err != nil {
			t.Fatal(err)
		}
		mtime := time.Date(2001+i*20, 2, 3, 4, 5, 6, 0, time.UTC)
		if err := os.Chtimes(module, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			t.Setenv("TZ", "Pacific/Kiritimati")
			time.Sleep(1100 * time.Millisecond) // another second on the clock
		}
		oci := filepath.Join(dir, "oci")
		digests = append(digests, wasmoci(t, "build", "-wasm", module, "-layout", oci))
		layouts = append(layouts, oci)
	}
	if digests[0] != digests[1] {
		t.Fatalf("two builds of the same module: %s and %s", digests[0], digests[1])
	}
	files := func(root string) map[string][]byte {
		out := map[string][]byte{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			out[rel] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := files(layouts[0]), files(layouts[1])
	if len(a) != len(b) {
		t.Errorf("the layouts hold %d and %d files", len(a), len(b))
	}
	for p, content := range a {
		if !bytes.Equal(content, b[p]) {
			t.Errorf("%s differs between the two layouts", p)
		}
	}

	// Another module, another digest: the digest depends on the bytes.
	other := append(bytes.Clone(wasm), 0)
	img, err := wasmImage(other)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d.String() == digests[0] {
		t.Error("a different module gave the same digest")
	}

	// A rebuild replaces the layout: no blob of the other build stays.
	dir := t.TempDir()
	module := filepath.Join(dir, "other.wasm")
	if err := os.WriteFile(module, other, 0o644); err != nil {
		t.Fatal(err)
	}
	oci := layouts[0]
	wasmoci(t, "build", "-wasm", module, "-layout", oci)
	wasmoci(t, "build", "-wasm", filepath.Join(filepath.Dir(oci), "cors.wasm"), "-layout", oci)
	if got := files(oci); len(got) != len(a) {
		t.Errorf("after rebuilding, the layout holds %d files, want %d", len(got), len(a))
	}
}

// TestFetcherRules shows that istioFetch is not vacuous: the artifact the
// README used to push with oras (one raw-Wasm layer) is refused with the
// error Istio gives, and so are a layer without plugin.wasm and a module
// without the Wasm magic.
func TestFetcherRules(t *testing.T) {
	host := quietRegistry(t)
	wasm := testModule(t)
	push := func(repo string, img v1.Image) string {
		t.Helper()
		ref, err := name.ParseReference(host + "/" + repo + ":v1")
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
		return "oci://" + ref.String()
	}
	oras, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1),
		mutate.Addendum{Layer: static.NewLayer(wasm, "application/vnd.module.wasm.content.layer.v1+wasm")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := istioFetch(push("oras", oras), ""); err == nil || !strings.Contains(err.Error(), "number of layers must be 2 but got 1") {
		t.Errorf("a one-layer raw-Wasm artifact: err = %v, want Istio's \"number of layers must be 2 but got 1\"", err)
	}

	good, err := wasmImage(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wasmImage([]byte("#!/bin/sh\necho not wasm\n")); err == nil {
		t.Error("wasmoci packaged a file that is not a Wasm module")
	}
	// A plugin.wasm without the magic, packaged by hand.
	gz, err := layerBytes(append([]byte("notwasm!"), wasm[8:]...))
	if err != nil {
		t.Fatal(err)
	}
	bad, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1),
		mutate.Addendum{Layer: static.NewLayer(gz, types.OCILayer), MediaType: types.OCILayer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := istioFetch(push("nomagic", bad), ""); err == nil || !strings.Contains(err.Error(), "is invalid") {
		t.Errorf("a plugin.wasm without the Wasm magic: err = %v, want it refused", err)
	}
	if _, err := istioFetch(push("good", good), ""); err != nil {
		t.Errorf("the wasmoci image: %v", err)
	}
}
