package policy

import (
	"strings"

	"github.com/tidwall/gjson"
)

// This file holds what a policy says for its reviewers: the metadata keys
// (a version and a description for the policy, a description and an
// internal mark for each rule), which change no decision, and Describe, a
// read-only view of the effective rules for tools (corsctl diff, doc,
// check -format json) that must not reach into the compiled form.

const (
	keyVersion     = "version"
	keyDescription = "description"
	keyInternal    = "internal"

	maxVersionLen     = 128
	maxDescriptionLen = 4096
)

// metadataKeys are valid at the top level; ruleMetadataKeys in a rule.
var (
	metadataKeys     = []string{keyVersion, keyDescription}
	ruleMetadataKeys = []string{keyDescription, keyInternal}
)

// metadata is the policy's own version and description.
type metadata struct {
	_                    noCompare // see noCompare
	version, description string
}

// ruleMetadata is a rule's description, and whether it is internal: left
// out of the page corsctl doc writes for partners.
type ruleMetadata struct {
	_           noCompare // see noCompare
	description string
	internal    bool
}

func (d *decoder) metadataField(m *metadata, key string, v gjson.Result, path string) {
	switch key {
	case keyVersion:
		if s, ok := d.metadataString(v, path, maxVersionLen, false); ok {
			m.version = s
		}
	case keyDescription:
		if s, ok := d.metadataString(v, path, maxDescriptionLen, true); ok {
			m.description = s
		}
	}
}

func (d *decoder) ruleMetadataField(m *ruleMetadata, key string, v gjson.Result, path string) {
	switch key {
	case keyDescription:
		if s, ok := d.metadataString(v, path, maxDescriptionLen, true); ok {
			m.description = s
		}
	case keyInternal:
		if b := d.boolean(v, path); b != nil {
			m.internal = *b
		}
	}
}

// metadataString decodes a version or a description: printable text of at
// most max bytes (line breaks allowed in a description only), since both
// end up in log lines and in pages.
func (d *decoder) metadataString(v gjson.Result, path string, max int, multiline bool) (string, bool) {
	s, ok := d.str(v, path)
	if !ok {
		return "", false
	}
	if len(s) > max {
		d.errs.add(path, ProblemOutOfRange, "", "must be at most "+itoa(max)+" bytes")
		return "", false
	}
	for _, r := range s {
		if r == '\n' && multiline || r == '\t' {
			continue
		}
		// Control characters (C0, DEL, C1) and the line and paragraph
		// separators, without unicode's tables, which would cost
		// cors.wasm 30 KB.
		if r < 0x20 || 0x7f <= r && r < 0xa0 || r == 0x2028 || r == 0x2029 {
			d.errs.add(path, ProblemInvalidValue, s, "must be printable text, without control characters")
			return "", false
		}
	}
	return s, true
}

// Version returns the policy's "version", "" when it has none.
func (p *Policy) Version() string { return p.meta.version }

// Description returns the policy's "description", "" when it has none.
func (p *Policy) Description() string { return p.meta.description }

// RuleDescription is the effective form of one rule, as String writes it,
// for tools to read: every field resolved (inherited values copied in,
// defaults explicit, origins canonical, safelisted methods and response
// headers dropped). Lists are fresh copies; nil means the key is absent
// (none listed, nothing inherited), an empty list means "none".
type RuleDescription struct {
	Name        string
	Description string
	Internal    bool // marked internal: corsctl doc leaves it out

	Match MatchDescription

	Origins       []string // "*", "null" and canonical patterns, as listed
	OriginRegexes []string
	// Methods, RequestHeaders and ExposedHeaders start with "*" when it
	// was listed; header names are in lower case.
	Methods, RequestHeaders, ExposedHeaders []string

	Credentials     bool
	MaxAge          int // seconds; -1 when max_age_seconds is absent
	PrivateNetwork  bool
	PreflightStatus int
	Mode            string // "enforce", "report_only" or "off"
	RejectDisallowedOrigins,
	ForwardDeniedPreflights,
	Debug bool
	AllowNullOrigin,
	AllowInsecureOriginsWithCredentials,
	AllowPrivateNetworkFromAnyOrigin bool
}

// MatchDescription is a rule's match; all empty for a catch-all. Hosts
// are in lower case, subdomain patterns written "*.example.com".
type MatchDescription struct {
	Hosts, Paths, PathPrefixes, PathRegexes, RouteNames, Methods []string
}

// CatchAll reports whether the match takes every request.
func (m MatchDescription) CatchAll() bool {
	return len(m.Hosts)+len(m.Paths)+len(m.PathPrefixes)+len(m.PathRegexes)+len(m.RouteNames)+len(m.Methods) == 0
}

// Describe returns the effective rules, in order.
func (p *Policy) Describe() []RuleDescription {
	out := make([]RuleDescription, len(p.rules))
	for i := range p.rules {
		r := &p.rules[i]
		e := &r.eff
		out[i] = RuleDescription{
			Name:        r.name,
			Description: r.meta.description,
			Internal:    r.meta.internal,
			Match: MatchDescription{
				Hosts:        hostsForJSON(r.match.hosts),
				Paths:        clone(r.match.paths),
				PathPrefixes: clone(r.match.prefixes),
				PathRegexes:  clone(r.match.pathRe),
				RouteNames:   clone(r.match.routes),
				Methods:      clone(r.match.methods),
			},
			Origins:                             e.origins.values(),
			OriginRegexes:                       e.regexes.sources(),
			Methods:                             withStar(e.methods),
			RequestHeaders:                      withStar(e.headers),
			ExposedHeaders:                      withStar(e.expose),
			Credentials:                         r.credentials,
			MaxAge:                              e.maxAge,
			PrivateNetwork:                      r.privateNetwork,
			PreflightStatus:                     r.preflightStatus,
			Mode:                                r.mode.String(),
			RejectDisallowedOrigins:             r.reject,
			ForwardDeniedPreflights:             r.forwardDenied,
			Debug:                               r.debug,
			AllowNullOrigin:                     e.allowNull,
			AllowInsecureOriginsWithCredentials: e.allowInsecure,
			AllowPrivateNetworkFromAnyOrigin:    e.allowPNAAny,
		}
	}
	return out
}

func clone(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string{}, s...)
}

// writeMetadataJSON writes the policy's metadata members, when set, for
// String.
func (m *metadata) writeJSON(w *jsonWriter) {
	if m.version != "" {
		w.key(keyVersion)
		writeString(w.b, m.version)
	}
	if m.description != "" {
		w.key(keyDescription)
		writeString(w.b, m.description)
	}
}

func (m *ruleMetadata) writeJSON(w *jsonWriter) {
	if m.description != "" {
		w.key(keyDescription)
		writeString(w.b, m.description)
	}
	if m.internal {
		w.raw(keyInternal, "true")
	}
}

// oneLine returns s with its line breaks as spaces, for a log line.
func oneLine(s string) string { return replaceByte(s, '\n', ' ') }

// replaceByte returns s with every byte old replaced by new: a loop, where
// strings.ReplaceAll would cost cors.wasm 5 KB for two one-byte uses.
func replaceByte(s string, old, new byte) string {
	i := strings.IndexByte(s, old)
	if i < 0 {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if b[i] == old {
			b[i] = new
		}
	}
	return string(b)
}

// StartLog returns the log line that names the policy at plugin start,
// "" when it has neither version nor description: `cors: policy version
// "2026-07-01.3": "CORS for the storefront APIs"`.
func (p *Policy) StartLog() string {
	if p.meta.version == "" && p.meta.description == "" {
		return ""
	}
	line := "cors: policy"
	if p.meta.version != "" {
		line += " version " + Quote(p.meta.version)
	}
	if p.meta.description != "" {
		line += ": " + Quote(oneLine(p.meta.description))
	}
	return line
}
