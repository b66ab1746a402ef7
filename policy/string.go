package policy

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// String returns the normalized effective configuration as one line of
// JSON: every rule with every field resolved (inherited values copied in,
// defaults made explicit, origins canonical, safelisted methods dropped).
// Parsing it again yields an equivalent policy.
func (p *Policy) String() string {
	var b strings.Builder
	b.WriteByte('{')
	w := &jsonWriter{b: &b, first: true}
	p.meta.writeJSON(w)
	w.key("rules")
	b.WriteByte('[')
	for i := range p.rules {
		if i > 0 {
			b.WriteByte(',')
		}
		p.rules[i].writeJSON(&b)
	}
	b.WriteByte(']')
	p.writeSources(&b)
	b.WriteByte('}')
	return b.String()
}

// Quote returns s as a JSON string literal, quotes included: safe to put in
// a log line whatever s holds.
//
// Not inlined, for the size of cors.wasm: only configuration code and
// log lines call it.
//
//go:noinline
func Quote(s string) string {
	var b strings.Builder
	writeString(&b, s)
	return b.String()
}

// QuoteTruncated is Quote for request values in log lines: it quotes at
// most the first n bytes of s (cut back to the start of a UTF-8 sequence)
// and, when it cut, follows the literal with "…" and the length of s, as in
// "https://aaaa"…(65536 bytes). A hostile value thus costs a log line of
// bounded size, and a reader can tell it was cut.
func QuoteTruncated(s string, n int) string {
	return string(AppendQuoteTruncated(nil, s, n))
}

// AppendQuoteTruncated appends QuoteTruncated(s, n) to dst, so that a filter
// writing log lines into a buffer of its own allocates nothing.
func AppendQuoteTruncated(dst []byte, s string, n int) []byte {
	if len(s) <= n {
		return appendQuoted(dst, s)
	}
	cut := max(n, 0)
	for back := 0; back < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(s[cut]); back++ {
		cut--
	}
	dst = appendQuoted(dst, s[:cut])
	dst = append(dst, "…("...)
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	return append(dst, " bytes)"...)
}

// jsonWriter writes the members of one JSON object.
type jsonWriter struct {
	b     *strings.Builder
	first bool
}

func (w *jsonWriter) key(k string) {
	if !w.first {
		w.b.WriteByte(',')
	}
	w.first = false
	writeString(w.b, k)
	w.b.WriteByte(':')
}

func (w *jsonWriter) raw(k, v string) {
	w.key(k)
	w.b.WriteString(v)
}

// list writes a list member; a nil list (an absent key) is left out, an
// empty one ("none") is written.
func (w *jsonWriter) list(k string, list []string) {
	if list == nil {
		return
	}
	w.key(k)
	w.b.WriteByte('[')
	for i, s := range list {
		if i > 0 {
			w.b.WriteByte(',')
		}
		writeString(w.b, s)
	}
	w.b.WriteByte(']')
}

func (ru *rule) writeJSON(b *strings.Builder) {
	w := &jsonWriter{b: b, first: true}
	b.WriteByte('{')
	w.key("name")
	writeString(b, ru.name)
	ru.meta.writeJSON(w)
	if m := ru.match; !m.catchAll() {
		w.key("match")
		b.WriteByte('{')
		mw := &jsonWriter{b: b, first: true}
		mw.list("hosts", hostsForJSON(m.hosts))
		mw.list("paths", m.paths)
		mw.list("path_prefixes", m.prefixes)
		mw.list("path_regexes", m.pathRe)
		mw.list("route_names", m.routes)
		mw.list("methods", m.methods)
		b.WriteByte('}')
	}
	ru.writeFields(w, true)
	if c := ru.cand; c != nil {
		w.key(keyCandidate)
		b.WriteByte('{')
		c.rule.writeFields(&jsonWriter{b: b, first: true}, false)
		b.WriteByte('}')
		w.raw(keyRollout, itoa(c.percent))
	}
	b.WriteByte('}')
}

// writeFields writes the rule's effective policy fields; mode only with
// withMode (a candidate has the rule's).
func (ru *rule) writeFields(w *jsonWriter, withMode bool) {
	e := &ru.eff
	w.list(keyOrigins, e.origins.values())
	w.list(keyOriginRegexes, e.regexes.sources())
	if e.sets != nil {
		w.list(keyOriginSets, append([]string{}, e.sets.names...))
	}
	w.list(keyMethods, withStar(e.methods))
	w.list(keyHeaders, withStar(e.headers))
	w.list(keyExpose, withStar(e.expose))
	w.raw(keyCredentials, strconv.FormatBool(ru.credentials))
	if e.maxAge >= 0 {
		w.raw(keyMaxAge, itoa(e.maxAge))
	}
	w.raw(keyPrivateNetwork, strconv.FormatBool(ru.privateNetwork))
	w.raw(keyPreflightStatus, itoa(ru.preflightStatus))
	if withMode {
		w.raw(keyMode, `"`+ru.mode.String()+`"`)
	}
	w.raw(keyReject, strconv.FormatBool(ru.reject))
	w.raw(keyForwardDenied, strconv.FormatBool(ru.forwardDenied))
	w.raw(keyDebug, strconv.FormatBool(ru.debug))
	w.raw(keyAllowNull, strconv.FormatBool(e.allowNull))
	w.raw(keyAllowInsecure, strconv.FormatBool(e.allowInsecure))
	w.raw(keyAllowPNAAny, strconv.FormatBool(e.allowPNAAny))
	ru.writeGrants(w)
}

// writeSources writes the origin sources, and the report's settings when
// they are not the defaults, as members of the top-level object.
func (p *Policy) writeSources(b *strings.Builder) {
	if len(p.sources) > 0 {
		b.WriteString(`,"` + keySources + `":[`)
		for i, s := range p.sources {
			if i > 0 {
				b.WriteByte(',')
			}
			w := &jsonWriter{b: b, first: true}
			b.WriteByte('{')
			w.key("name")
			writeString(b, s.Name)
			w.key("cluster")
			writeString(b, s.Cluster)
			w.key("authority")
			writeString(b, s.Authority)
			w.key("path")
			writeString(b, s.Path)
			w.raw("refresh_seconds", itoa(s.RefreshSeconds))
			w.raw("timeout_ms", itoa(s.TimeoutMS))
			w.raw("max_origins", itoa(s.MaxOrigins))
			b.WriteByte('}')
		}
		b.WriteByte(']')
	}
	if p.reportSeconds != defaultReportSeconds {
		b.WriteString(`,"` + keyReportInterval + `":` + itoa(p.reportSeconds))
	}
	if p.reportTop != defaultReportTop {
		b.WriteString(`,"` + keyReportTop + `":` + itoa(p.reportTop))
	}
}

func hostsForJSON(hosts []string) []string {
	if hosts == nil {
		return nil
	}
	out := make([]string, len(hosts))
	for i, h := range hosts {
		if h[0] == '.' {
			h = "*" + h
		}
		out[i] = h
	}
	return out
}

// writeString writes s as a JSON string.
func writeString(b *strings.Builder, s string) {
	var buf [128]byte
	b.Write(appendQuoted(buf[:0], s))
}

// appendQuoted appends s to dst as a JSON string.
func appendQuoted(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		// A run of printable ASCII goes in one append: in wasm, a byte
		// appended at a time costs several times the scan.
		j := i
		for j < len(s) && ' ' <= s[j] && s[j] < 0x7f && s[j] != '"' && s[j] != '\\' {
			j++
		}
		dst = append(dst, s[i:j]...)
		if i = j; i == len(s) {
			break
		}
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20 || c == 0x7f:
			dst = append(dst, `\u00`...)
			dst = append(dst, hex[c>>4], hex[c&0xf])
		case c < utf8.RuneSelf:
			dst = append(dst, c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				dst = append(dst, `\ufffd`...)
			case disguises(r):
				dst = append(dst, `\u`...)
				dst = append(dst, hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
			default:
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		i++
	}
	return append(dst, '"')
}

// itoa is strconv.Itoa kept out of line: the configuration code calls it in
// many places, and every inlined copy cost cors.wasm code.
//
//go:noinline
func itoa(i int) string { return strconv.Itoa(i) }

// disguises reports whether r, printed as it is, could make a log line read
// otherwise than it is: the line and paragraph separators, which some
// viewers break lines at, and the bidirectional controls, which reorder
// what follows them (an Origin could make "evil.example" display as an
// allowed name).
func disguises(r rune) bool {
	return r == 0x2028 || r == 0x2029 || 0x202a <= r && r <= 0x202e || 0x2066 <= r && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}
