package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The layer's one file, as the fetchers of Istio, Envoy Gateway and Higress
// look for it (istio pkg/wasm/imagefetcher.go, extractWasmPluginBinary).
const (
	wasmFileName = "plugin.wasm"
	wasmFileMode = 0o644
)

// epoch is the one timestamp the image holds: the tar entry's mtime, the
// config's created and its history entry. A fixed value keeps the digest a
// function of the module's bytes alone.
var epoch = time.Unix(0, 0).UTC()

// wasmMagic is the first four bytes of every Wasm module; the fetchers
// refuse a plugin.wasm without them (istio pkg/wasm/cache.go,
// isValidWasmBinary).
var wasmMagic = []byte{0x00, 'a', 's', 'm'}

// wasmImage returns the OCI image of a Wasm module in the format every
// Istio-derived fetcher accepts (the "compat" variant of the Wasm image
// spec): an OCI image manifest whose only (so last) layer is an
// application/vnd.oci.image.layer.v1.tar+gzip holding plugin.wasm. Nothing
// in it depends on the time, the host or the input file's metadata: the
// same module gives the same manifest digest.
func wasmImage(wasm []byte) (v1.Image, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], wasmMagic) {
		return nil, errors.New("not a Wasm module: it does not start with \\0asm and a version")
	}
	gz, err := layerBytes(wasm)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gz)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "wasmoci: " + wasmFileName},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	// The platform the module was built for: GOOS=wasip1 GOARCH=wasm.
	cf.OS, cf.Architecture = "wasip1", "wasm"
	cf.Created = v1.Time{Time: epoch}
	return mutate.ConfigFile(img, cf)
}

// layerBytes returns the gzipped tar that holds the module as plugin.wasm,
// with every field that could vary between builds fixed: the entry's mode,
// mtime, owner and format, and the gzip header's name, mtime and OS.
func layerBytes(wasm []byte) ([]byte, error) {
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     wasmFileName,
		Mode:     wasmFileMode,
		Size:     int64(len(wasm)),
		ModTime:  epoch,
		Format:   tar.FormatUSTAR, // no PAX records: no atime or ctime
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(wasm); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	var gzBuf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gzBuf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	// The zero values, written out: no file name, mtime 0 (Go writes 0 for
	// the zero time) and OS 255 ("unknown"), whatever machine builds it.
	zw.Header = gzip.Header{Name: "", Comment: "", ModTime: time.Time{}, OS: 255}
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return gzBuf.Bytes(), nil
}
