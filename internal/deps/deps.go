package deps
import (
	_ "github.com/gorilla/mux"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/brianvoe/gofakeit/v7"
	_ "github.com/cucumber/godog"
	_ "github.com/go-jose/go-jose/v4"
	_ "software.sslmate.com/src/go-pkcs12"
	_ "github.com/google/uuid"
)
