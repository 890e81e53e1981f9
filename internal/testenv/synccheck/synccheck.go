// Package synccheck is test support only (imported only from _test.go
// files): the invariant the end-to-end and fault tests check — Port holds
// exactly what a fresh full sync would write. It is apart from testenv
// because it imports internal/catalog, whose own tests use testenv.
package synccheck

import (
	"context"
	"fmt"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
)

// InSync computes the changeset a fresh full sync with eng would apply and
// reports whether it is empty. When it is not, the string says how many
// creates, updates and deletes remain with a preview of the first changes;
// when the computation fails, it is the error.
func InSync(ctx context.Context, eng *catalog.Engine) (bool, string) {
	rep, err := eng.Compute(ctx)
	if err != nil {
		return false, err.Error()
	}
	if rep.Changeset.Empty() {
		return true, ""
	}
	c := rep.Changeset.Counts()
	return false, fmt.Sprintf("%d to create, %d to update, %d to delete: %v", c.Create, c.Update, c.Delete, rep.Changeset.Preview(8))
}
