# The gateway on the official Deno image, run by the image's unprivileged `deno` user.
#   docker build -t llm-gateway .
#   docker run -p 8080:8080 -e OPENAI_API_KEY -v gateway-data:/app/data llm-gateway
# A configuration mounted at /app/config.yaml replaces the embedded default (README.md, "Docker").
FROM denoland/deno:2.9.6

WORKDIR /app

# Dependencies first, in a layer of their own that a source change does not invalidate. The
# sources stay root-owned: the gateway reads them and writes only to Deno's cache (/deno-dir) and
# to /app/data, the volume of its default SQLite store (usage records, virtual keys).
COPY deno.json deno.lock ./
RUN mkdir /app/data && chown deno:deno /app/data
VOLUME /app/data
USER deno
RUN deno install --frozen

COPY . .
RUN deno cache --frozen main.ts

EXPOSE 8080
# As `deno task start`; inside a container the port must be reachable from outside it.
CMD ["deno", "task", "--quiet", "start", "--host", "0.0.0.0"]
