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
	b.WriteString(`{"rules":[`)
	for i := range p.rules {
		if i > 0 {
			b.WriteByte(',')
		}
		p.rules[i].writeJSON(&b)
	}
	b.WriteString("]}")
	return b.String()
}

func (ru *rule) writeJSON(b *strings.Builder) {
	b.WriteString(`{"name":`)
	writeString(b, ru.name)
	m := ru.match
	if !m.catchAll() {
		b.WriteString(`,"match":{`)
		first := true
		for _, f := range []struct {
			key  string
			list []string
		}{{"hosts", hostsForJSON(m.hosts)}, {"paths", m.paths}, {"path_prefixes", m.prefixes}, {"path_regexes", m.pathRe}, {"route_names", m.routes}, {"methods", m.methods}} {
			if len(f.list) == 0 {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			writeList(b, f.key, f.list)
		}
		b.WriteByte('}')
	}
	e := &ru.eff
	lists := []struct {
		key  string
		list []string
	}{{keyOrigins, e.origins.values()}, {keyOriginRegexes, e.regexes.sources()}, {keyMethods, withStar(e.methods)}, {keyHeaders, withStar(e.headers)}, {keyExpose, withStar(e.expose)}}
	for _, f := range lists {
		if len(f.list) > 0 {
			b.WriteByte(',')
			writeList(b, f.key, f.list)
		}
	}
	writeBool(b, keyCredentials, ru.credentials)
	if e.maxAge >= 0 {
		b.WriteString(`,"` + keyMaxAge + `":` + strconv.Itoa(e.maxAge))
	}
	writeBool(b, keyPrivateNetwork, ru.privateNetwork)
	b.WriteString(`,"` + keyPreflightStatus + `":` + strconv.Itoa(ru.preflightStatus))
	b.WriteString(`,"` + keyMode + `":"` + ru.mode.String() + `"`)
	writeBool(b, keyReject, ru.reject)
	writeBool(b, keyForwardDenied, ru.forwardDenied)
	writeBool(b, keyDebug, ru.debug)
	writeBool(b, keyAllowNull, e.allowNull)
	writeBool(b, keyAllowInsecure, e.allowInsecure)
	b.WriteByte('}')
}

func hostsForJSON(hosts []string) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		if h[0] == '.' {
			h = "*" + h
		}
		out[i] = h
	}
	return out
}

func writeBool(b *strings.Builder, key string, v bool) {
	b.WriteString(`,"` + key + `":` + strconv.FormatBool(v))
}

func writeList(b *strings.Builder, key string, list []string) {
	b.WriteString(`"` + key + `":[`)
	for i, s := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, s)
	}
	b.WriteByte(']')
}

// writeString writes s as a JSON string.
func writeString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		case c < utf8.RuneSelf:
			b.WriteByte(c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(`\ufffd`)
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		i++
	}
	b.WriteByte('"')
}
