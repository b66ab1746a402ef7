package policy

import (
	"reflect"
	"testing"
)

// TestDecision_resetClearsEveryField fills every field of a Decision,
// whatever fields it grows, and checks that reset leaves a zero Decision
// but for the header storage beyond nHeaders: DecideInto must decide into
// a reused Decision exactly as Decide does into a fresh one.
func TestDecision_resetClearsEveryField(t *testing.T) {
	var d Decision
	v := reflect.ValueOf(&d).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Name == "headers" || f.Name == "_" {
			continue
		}
		fv := reflect.NewAt(f.Type, v.Field(i).Addr().UnsafePointer()).Elem()
		switch fv.Kind() {
		case reflect.String:
			fv.SetString("x")
		case reflect.Bool:
			fv.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			fv.SetInt(1)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			fv.SetUint(1)
		default:
			t.Fatalf("Decision.%s is a %v: teach this test to fill it", f.Name, fv.Kind())
		}
	}
	d.headers[0] = Header{"a", "b"}
	d.reset()
	d.headers = [maxHeaders]Header{}
	if !reflect.DeepEqual(d, Decision{}) {
		t.Fatalf("reset left %+v; want a zero Decision", d)
	}
}

// TestDecideInto_reused checks DecideInto against Decide on requests of
// every kind, each decided into the Decision the one before left.
func TestDecideInto_reused(t *testing.T) {
	p, err := Parse([]byte(`{"allowed_origins":["https://app.example.com"],"allowed_methods":["PUT"],"allow_credentials":true,"max_age_seconds":60,"debug":true,
		"rules":[{"name":"off","match":{"paths":["/off"]},"mode":"off"},{"name":"api"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	reqs := []Request{
		{Method: "OPTIONS", Path: "/", Origin: []string{"https://app.example.com"}, ACRM: []string{"PUT"}, ACRH: []string{"x-a"}},
		{Method: "OPTIONS", Path: "/", Origin: []string{"https://app.example.com"}, ACRM: []string{"PUT"}},
		{Method: "GET", Path: "/", Origin: []string{"https://app.example.com"}},
		{Method: "GET", Path: "/", Origin: []string{"https://evil.example"}},
		{Method: "GET", Path: "/"},
		{Method: "GET", Path: "/off", Origin: []string{"https://app.example.com"}},
	}
	var d Decision
	for round := range 2 {
		for i := range reqs {
			want := p.Decide(&reqs[i])
			p.DecideInto(&reqs[i], &d)
			got := d
			for k := int(got.nHeaders); k < maxHeaders; k++ {
				got.headers[k] = Header{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, request %d: DecideInto gives %+v; Decide gives %+v", round, i, got, want)
			}
		}
	}
}
