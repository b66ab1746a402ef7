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

// pageHandler serves the demo page, whose fetch() calls go to gateway,
// which runs config (or gatewayConfig, its copy for the page's origin),
// and the page's POST /why, which why answers.
func pageHandler(gateway, config, gatewayConfig string, why http.Handler) (http.Handler, error) {
	var buf bytes.Buffer
	data := struct{ Gateway, Config, GatewayConfig string }{gateway, config, gatewayConfig}
	if err := pageTemplate.Execute(&buf, data); err != nil {
		return nil, err
	}
	page := buf.Bytes()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(page)
	})
	mux.Handle("POST /why", why)
	return mux, nil
}
