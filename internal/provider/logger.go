package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// leveledLogger forwards go-retryablehttp's logs to tflog, as
// terraform-provider-http does, so they appear under TF_LOG and nowhere else.
// The clients never pass secrets or request bodies to it.
type leveledLogger struct {
	ctx context.Context
}

var _ retryablehttp.LeveledLogger = leveledLogger{}

func newLeveledLogger(ctx context.Context, subsystem string) leveledLogger {
	return leveledLogger{ctx: tflog.SetField(ctx, "harborport_client", subsystem)}
}

func (l leveledLogger) fields(kv []interface{}) map[string]interface{} {
	m := make(map[string]interface{}, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}

func (l leveledLogger) Error(msg string, kv ...interface{}) { tflog.Error(l.ctx, msg, l.fields(kv)) }
func (l leveledLogger) Info(msg string, kv ...interface{})  { tflog.Info(l.ctx, msg, l.fields(kv)) }
func (l leveledLogger) Debug(msg string, kv ...interface{}) { tflog.Debug(l.ctx, msg, l.fields(kv)) }
func (l leveledLogger) Warn(msg string, kv ...interface{})  { tflog.Warn(l.ctx, msg, l.fields(kv)) }
