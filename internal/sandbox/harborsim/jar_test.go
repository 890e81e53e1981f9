package harborsim

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
)

func newJar() http.CookieJar {
	j, _ := cookiejar.New(nil)
	return j
}

func bufCopy(b *strings.Builder, res *http.Response) (int64, error) { return io.Copy(b, res.Body) }
