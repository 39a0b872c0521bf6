# The gateway, on its embedded default store (DuckDB in /data) unless GQL_ANALYTICS_STORE_URL
# names another (deploy/docker-compose.yml runs it on MongoDB and Kafka).
# Build: docker build -t gql-analytics .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gql_analytics ./gql_analytics
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 gateway && mkdir /data && chown gateway /data
USER gateway
ENV GQL_ANALYTICS_HOST=0.0.0.0 \
    GQL_ANALYTICS_PORT=8000 \
    GQL_ANALYTICS_STORE_URL=duckdb:////data/analytics.duckdb
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
ENTRYPOINT ["gql-analytics"]
CMD ["serve"]
