package deps

import (
	_ "github.com/brianvoe/gofakeit/v7"
	_ "github.com/cucumber/godog"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/uuid"
	_ "github.com/gorilla/mux"
	_ "software.sslmate.com/src/go-pkcs12"
)
