# syntax=docker/dockerfile:1
# A static, non-root chaosd image. Built the same way CI builds bin/chaosd-static
# (make build-static); there is no Docker engine on the project's CI machines.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=v0.1.0-dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/chaosd/chaosd/internal/version.Version=${VERSION} -X github.com/chaosd/chaosd/internal/version.Commit=${COMMIT}" \
      -o /out/chaosd ./cmd/chaosd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/chaosd /chaosd
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/chaosd"]
CMD ["run", "--config", "/etc/chaosd/config.yaml"]
