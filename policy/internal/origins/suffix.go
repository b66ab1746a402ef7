package origins

import "strings"

// genericSecondLevel holds the second-level labels that registries under
// country-code TLDs commonly open to the public ("co.uk", "com.au",
// "ac.jp", ...).
var genericSecondLevel = map[string]bool{
	"ac": true, "co": true, "com": true, "edu": true, "gov": true, "gob": true,
	"go": true, "govt": true, "ltd": true, "me": true, "mil": true, "ne": true,
	"net": true, "nic": true, "nom": true, "or": true, "org": true, "plc": true,
	"sch": true, "info": true, "biz": true, "web": true, "int": true, "res": true,
	"gen": true, "firm": true, "ind": true, "nhs": true, "police": true, "lg": true,
	"ed": true, "gr": true, "ad": true, "in": true, "blog": true,
}

// sharedHosting holds well-known private public suffixes: domains under
// which any customer of a hosting platform gets a subdomain.
var sharedHosting = map[string]bool{
	"github.io": true, "gitlab.io": true, "bitbucket.io": true, "codeberg.page": true,
	"herokuapp.com": true, "vercel.app": true, "now.sh": true, "netlify.app": true,
	"netlify.com": true, "pages.dev": true, "workers.dev": true, "web.app": true,
	"firebaseapp.com": true, "appspot.com": true, "azurewebsites.net": true,
	"azurestaticapps.net": true, "cloudfront.net": true, "amazonaws.com": true,
	"s3.amazonaws.com": true, "blogspot.com": true, "glitch.me": true, "repl.co": true,
	"replit.app": true, "fly.dev": true, "onrender.com": true, "railway.app": true,
	"up.railway.app": true, "surge.sh": true, "ngrok.io": true, "ngrok-free.app": true,
	"ngrok.app": true, "pythonanywhere.com": true, "wordpress.com": true,
	"deno.dev": true, "vercel.sh": true, "trycloudflare.com": true,
	"myshopify.com": true, "cloudfunctions.net": true, "ts.net": true, "azurefd.net": true,
	"r2.dev": true, "co.com": true, "herokudns.com": true, "onrender.app": true,
	"githubusercontent.com": true, "googleusercontent.com": true, "run.app": true,
	"cloudapp.net": true, "azureedge.net": true, "windows.net": true, "digitaloceanspaces.com": true,
	"ondigitalocean.app": true, "netlify.live": true, "stackblitz.io": true, "webcontainer.io": true,
	"codesandbox.io": true, "csb.app": true, "gitpod.io": true, "github.dev": true, "app.github.dev": true,
}

// isPublicSuffix reports whether anyone may register a name directly under
// domain: a single label (any TLD but localhost), a generic second level
// under a country-code TLD, or a well-known shared-hosting domain.
//
// This is deliberately a compact approximation of the Public Suffix List:
// the list itself (golang.org/x/net/publicsuffix) adds 2.1 MB to cors.wasm,
// beyond the 3 MB budget. See RATIONALE.md.
// IsPublicSuffix reports whether anyone may register a name directly under
// domain (see isPublicSuffix).
func IsPublicSuffix(domain string) bool { return isPublicSuffix(domain) }

func isPublicSuffix(domain string) bool {
	dot := strings.IndexByte(domain, '.')
	if dot < 0 {
		// Every TLD, except localhost: RFC 6761 reserves its subdomains
		// for loopback.
		return domain != "localhost"
	}
	if sharedHosting[domain] || domain == "amazonaws.com" || strings.HasSuffix(domain, ".amazonaws.com") {
		// Regional AWS endpoints (s3.us-east-1.amazonaws.com,
		// execute-api.eu-west-1.amazonaws.com, ...) serve every customer.
		return true
	}
	sld, tld := domain[:dot], domain[dot+1:]
	return len(tld) == 2 && !strings.Contains(tld, ".") && genericSecondLevel[sld]
}
