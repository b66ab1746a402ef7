package origins

import "strings"

// IsPublicSuffix reports whether anyone may register a name directly under
// domain (see isPublicSuffix).
func IsPublicSuffix(domain string) bool { return isPublicSuffix(domain) }

// genericSecondLevel lists, between bars, the second-level labels that registries under
// country-code TLDs commonly open to the public ("co.uk", "com.au",
// "ac.jp", ...).
const genericSecondLevel = "|ac|co|com|edu|gov|gob|go|govt|ltd|me|mil|ne|net|nic|nom|or|org|plc|" +
	"sch|info|biz|web|int|res|gen|firm|ind|nhs|police|lg|ed|gr|ad|in|blog|"

// sharedHosting lists, between bars, well-known private public suffixes: domains under
// which any customer of a hosting platform gets a subdomain.
const sharedHosting = "|github.io|gitlab.io|bitbucket.io|codeberg.page|herokuapp.com|" +
	"vercel.app|now.sh|netlify.app|netlify.com|pages.dev|workers.dev|" +
	"web.app|firebaseapp.com|appspot.com|azurewebsites.net|" +
	"azurestaticapps.net|cloudfront.net|amazonaws.com|s3.amazonaws.com|" +
	"blogspot.com|glitch.me|repl.co|replit.app|fly.dev|onrender.com|" +
	"railway.app|up.railway.app|surge.sh|ngrok.io|ngrok-free.app|ngrok.app|" +
	"pythonanywhere.com|wordpress.com|deno.dev|vercel.sh|trycloudflare.com|" +
	"myshopify.com|cloudfunctions.net|ts.net|azurefd.net|r2.dev|co.com|" +
	"herokudns.com|onrender.app|githubusercontent.com|" +
	"googleusercontent.com|run.app|cloudapp.net|azureedge.net|windows.net|" +
	"digitaloceanspaces.com|ondigitalocean.app|netlify.live|stackblitz.io|" +
	"webcontainer.io|codesandbox.io|csb.app|gitpod.io|github.dev|" +
	"app.github.dev|"

// isPublicSuffix reports whether anyone may register a name directly under
// domain: a single label (any TLD but localhost), a generic second level
// under a country-code TLD, or a well-known shared-hosting domain.
//
// This is deliberately a compact approximation of the Public Suffix List:
// the list itself (golang.org/x/net/publicsuffix) adds 2.1 MB to cors.wasm,
// beyond the 3 MB budget. See RATIONALE.md.
func isPublicSuffix(domain string) bool {
	dot := strings.IndexByte(domain, '.')
	if dot < 0 {
		// Every TLD, except localhost: RFC 6761 reserves its subdomains
		// for loopback.
		return domain != "localhost"
	}
	if listed(sharedHosting, domain) || domain == "amazonaws.com" || strings.HasSuffix(domain, ".amazonaws.com") {
		// Regional AWS endpoints (s3.us-east-1.amazonaws.com,
		// execute-api.eu-west-1.amazonaws.com, ...) serve every customer.
		return true
	}
	sld, tld := domain[:dot], domain[dot+1:]
	return len(tld) == 2 && !strings.Contains(tld, ".") && listed(genericSecondLevel, sld)
}

// listed reports whether name stands between two bars in list. (A string
// rather than a map: a map literal compiles to initialization code, which
// costs the size-constrained plugin more than the data.)
func listed(list, name string) bool {
	return strings.Contains(list, "|"+name+"|")
}
