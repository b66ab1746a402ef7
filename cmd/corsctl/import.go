package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/corsfilter/corsfilter/internal/importer"
	"github.com/corsfilter/corsfilter/policy"
	"sigs.k8s.io/yaml"
)

func init() {
	commands["import"] = command{
		summary: "convert an Istio VirtualService, a Gateway API HTTPRoute or Envoy route CORS settings into a configuration",
		run:     runImport,
	}
}

// runImport implements `corsctl import FILE [-o OUT]`: the configuration on
// stdout (or in OUT), and on stderr every construct whose meaning changes,
// each line starting "change: ". The configuration is validated as the
// plugin would: an invalid one is not written, and exits 1 with the errors.
func runImport(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the configuration to `file` instead of stdout")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: corsctl import FILE [-o OUT]")
		fmt.Fprintln(w, "Convert the CORS settings of FILE (\"-\" for stdin; YAML or JSON) into a plugin configuration:")
		fmt.Fprintln(w, "an Istio VirtualService (corsPolicy per HTTP route), a Gateway API HTTPRoute (CORS filters),")
		fmt.Fprintln(w, "or Envoy route configuration (virtual hosts' and routes' CorsPolicy). Every construct whose")
		fmt.Fprintln(w, "meaning changes is listed on stderr; the result is validated as the plugin validates it.")
		fs.PrintDefaults()
	}
	pos, code, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "corsctl import: want one FILE, got %d arguments\n", len(pos))
		fmt.Fprintln(stderr, "run 'corsctl import -h' for usage")
		return 2
	}
	data, err := readFile(pos[0], stdin)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl import: %v\n", err)
		return 1
	}
	docs, err := jsonDocuments(data)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl import: %s: %v\n", pos[0], err)
		return 1
	}
	res, err := importer.Import(docs)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl import: %s: %v\n", pos[0], err)
		return 1
	}
	for _, s := range res.Sources {
		fmt.Fprintln(stderr, "read: "+s)
	}
	for _, c := range res.Changes {
		fmt.Fprintln(stderr, "change: "+c.String())
	}
	config := res.Config.JSON()
	p, err := policy.Parse(config)
	if err != nil {
		fmt.Fprintln(stderr, "corsctl import: the converted configuration is refused, as the plugin would refuse it:")
		for _, line := range flattenErrors(err) {
			fmt.Fprintln(stderr, line)
		}
		fmt.Fprintln(stderr, "the configuration, for reference:")
		stderr.Write(config)
		return 1
	}
	for _, w := range p.Warnings() {
		fmt.Fprintln(stderr, "warning: "+strings.TrimPrefix(w, "cors: "))
	}
	fmt.Fprintf(stderr, "ok: %d %s, %d %s of meaning\n", len(res.Config.Rules), pluralize(len(res.Config.Rules), "rule", "rules"),
		len(res.Changes), pluralize(len(res.Changes), "change", "changes"))
	if *out != "" {
		if err := os.WriteFile(*out, config, 0o644); err != nil {
			fmt.Fprintf(stderr, "corsctl import: %v\n", err)
			return 1
		}
		return 0
	}
	stdout.Write(config)
	return 0
}

// jsonDocuments returns a file's documents as JSON: the file itself when it
// is JSON, else each YAML document, strictly (a duplicate key is an error).
func jsonDocuments(data []byte) ([][]byte, error) {
	t := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\uFEFF")))
	if len(t) > 0 && t[0] == '{' {
		if !json.Valid(t) {
			return nil, fmt.Errorf("not valid JSON")
		}
		return [][]byte{t}, nil
	}
	var docs [][]byte
	for _, doc := range yamlDocuments(data) {
		js, err := yaml.YAMLToJSONStrict(doc.text)
		if err != nil {
			return nil, yamlError(err, doc.line)
		}
		if s := bytes.TrimSpace(js); len(s) > 0 && !bytes.Equal(s, []byte("null")) {
			docs = append(docs, js)
		}
	}
	return docs, nil
}
