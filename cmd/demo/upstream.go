package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"sync/atomic"
)

// sessionCookie is the cookie the demo API's credentialed endpoints require.
const sessionCookie = "demo_session"

// upstream is the demo JSON API behind the CORS gateway. It is deliberately
// permissive about CORS itself (it sets Access-Control-Allow-Origin: * on
// every response), to show that the filter owns the CORS headers of the
// routes it governs: the upstream can never widen the policy.
type upstream struct {
	log      *log.Logger
	orders   atomic.Int64
	requests atomic.Int64
}

// handler returns the demo API's routes.
func (u *upstream) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/public/items", u.listItems)
	mux.HandleFunc("GET /api/public/items/{id}", u.getItem)
	mux.HandleFunc("PUT /api/public/items/{id}", u.putItem)
	mux.HandleFunc("POST /api/app/session", u.signIn)
	mux.HandleFunc("POST /api/app/orders", u.createOrder)
	mux.HandleFunc("GET /admin/users", u.listUsers)
	mux.HandleFunc("OPTIONS /", func(w http.ResponseWriter, r *http.Request) {
		// A permissive upstream that answers every preflight with yes. The
		// filter answers preflights itself, so this is reached only when
		// no rule governs the path.
		w.Header().Set("Access-Control-Allow-Methods", "*")
		w.Header().Set("Access-Control-Allow-Headers", "*")
		w.WriteHeader(http.StatusNoContent)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookie := "no"
		if _, err := r.Cookie(sessionCookie); err == nil {
			cookie = "yes"
		}
		u.log.Printf("upstream: %s %s (origin %q, session cookie: %s)", r.Method, r.URL.Path, r.Header.Get("Origin"), cookie)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		// Two headers on every response, to show what exposing means: the
		// policy exposes X-Request-Id on app-write and X-Internal-Trace
		// nowhere, so the page can read the first there and never the
		// second, though both are on the wire.
		n := u.requests.Add(1)
		w.Header().Set("X-Request-Id", fmt.Sprintf("req-%d", n))
		w.Header().Set("X-Internal-Trace", fmt.Sprintf("trace-%d", n))
		mux.ServeHTTP(w, r)
	})
}

type item struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Price int    `json:"price_cents"`
}

var items = []item{
	{1, "espresso", 250},
	{2, "flat white", 380},
	{3, "croissant", 290},
}

func (u *upstream) listItems(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (u *upstream) getItem(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id < 1 || id > len(items) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such item"})
		return
	}
	writeJSON(w, http.StatusOK, items[id-1])
}

func (u *upstream) putItem(w http.ResponseWriter, r *http.Request) {
	// The API accepts PUT from anyone who can reach it; the CORS policy
	// keeps browsers on other origins from using it (public-read allows
	// no method beyond GET, HEAD and POST).
	writeJSON(w, http.StatusOK, map[string]string{"updated": r.PathValue("id")})
}

func (u *upstream) signIn(w http.ResponseWriter, r *http.Request) {
	// SameSite=None and Partitioned let the browser keep the cookie for a
	// cross-site page (localhost vs 127.0.0.1); browsers treat loopback as a
	// secure context, so Secure is honoured over plain http.
	http.SetCookie(w, &http.Cookie{
		Name:        sessionCookie,
		Value:       "demo-user",
		Path:        "/api/app/",
		HttpOnly:    true,
		Secure:      true,
		SameSite:    http.SameSiteNoneMode,
		Partitioned: true,
	})
	writeJSON(w, http.StatusOK, map[string]any{"signed_in": true, "user": "demo-user"})
}

func (u *upstream) createOrder(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err != nil || c.Value == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign in first: no " + sessionCookie + " cookie"})
		return
	}
	var order struct {
		Item     int `json:"item"`
		Quantity int `json:"quantity"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&order); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid order json"})
		return
	}
	n := u.orders.Add(1)
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(max(0, 100-int(n))))
	writeJSON(w, http.StatusCreated, map[string]any{"order": n, "item": order.Item, "quantity": order.Quantity})
}

func (u *upstream) listUsers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"users": []string{"alice", "bob"}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
