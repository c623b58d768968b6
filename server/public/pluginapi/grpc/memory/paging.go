package memory

import (
	"net/http"
	"strconv"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
)

func validatePaging(page, perPage int32) error {
	if page < 0 || perPage < 0 {
		return apperror.New("api.context.invalid_param.app_error",
			"Invalid paging: page and per_page must not be negative.",
			"page="+itoa(int(page))+" per_page="+itoa(int(perPage)), http.StatusBadRequest)
	}
	return nil
}

// page returns the page-th slice of perPage items; both are non-negative.
func page[T any](items []T, page, perPage int32) []T {
	start := int64(page) * int64(perPage)
	if start >= int64(len(items)) {
		return []T{}
	}
	end := min(start+int64(perPage), int64(len(items)))
	return items[start:end]
}

func itoa(n int) string { return strconv.Itoa(n) }
