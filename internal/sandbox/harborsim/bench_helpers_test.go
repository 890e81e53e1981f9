package harborsim

import (
	"net/http"
	"net/http/httptest"
)

type discardWriter struct {
	h      http.Header
	status int
}

func newDiscardWriter() *discardWriter               { return &discardWriter{h: http.Header{}} }
func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(s int)           { d.status = s }

func newBenchRequest(path string) *http.Request {
	rq := httptest.NewRequest("GET", path, nil)
	rq.SetBasicAuth("admin", "Harbor12345")
	return rq
}
