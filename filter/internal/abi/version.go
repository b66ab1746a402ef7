package abi

// Version is the proxy-wasm ABI version the plugin declares: the one the
// SDK's callbacks implement, exported as proxy_abi_version_0_2_0
// (exports_wasip1.go; drift_test.go checks the two agree). Envoy picks the
// host functions and callback signatures it uses by this export.
const Version = "0.2.0"
