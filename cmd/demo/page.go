package main

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

//go:embed page/index.html
var pageFS embed.FS

var pageTemplate = template.Must(template.ParseFS(pageFS, "page/index.html"))

// pageHandler serves the demo page, whose fetch() calls go to gateway.
func pageHandler(gateway string) (http.Handler, error) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, struct{ Gateway string }{gateway}); err != nil {
		return nil, err
	}
	page := buf.Bytes()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(page)
	})
	return mux, nil
}
