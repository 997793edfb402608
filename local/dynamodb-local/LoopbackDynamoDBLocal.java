import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts AWS's DynamoDB Local for the local stack, reachable from this machine only.
 *
 * DynamoDB Local's own main class binds Jetty to every interface and has no flag for the
 * address. This launcher builds the server from the same command line, then before it
 * opens its socket:
 *   - binds each connector to 127.0.0.1;
 *   - puts a guard in front of DynamoDB Local's handler that answers 403 to a request
 *     whose Host is not 127.0.0.1/localhost on this port (DNS rebinding) or that carries
 *     an Origin header (a web page), and, when BATCHRON_DYNAMODB_TOKEN is set (the stack
 *     sets it), to a request without that token in X-Batchron-DynamoDB-Token: then only
 *     the stack's proxy, which adds it, gets through.
 * It fails closed: if the server is not shaped as expected it exits instead of starting.
 *
 * local/dynamodb.ts compiles it once with javac and runs it with the jar on the class path.
 */
public final class LoopbackDynamoDBLocal {
  private LoopbackDynamoDBLocal() {}

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server jetty = (Server) field.get(proxy);
    int port = -1;
    for (Connector connector : jetty.getConnectors()) {
      if (connector instanceof ServerConnector serverConnector) {
        serverConnector.setHost("127.0.0.1");
        port = serverConnector.getPort();
      } else {
        fail("DynamoDB Local has a connector of an unexpected type; refusing to start it on every interface.");
      }
    }
    if (port < 0) fail("DynamoDB Local has no connector to bind; refusing to start.");
    String token = System.getenv("BATCHRON_DYNAMODB_TOKEN");
    jetty.setHandler(new Guard(jetty.getHandler(), port, token == null || token.isEmpty() ? null : token));
    proxy.start();
  }

  private static void fail(String message) {
    System.err.println("batchron: " + message);
    System.exit(3);
  }

  /** Refuses what did not come from the stack (or, without a token, from this machine's non-browser clients). */
  static final class Guard extends Handler.Wrapper {
    private final String[] hosts;
    private final byte[] token;

    Guard(Handler next, int port, String token) {
      super(next);
      this.hosts = new String[] {"127.0.0.1:" + port, "localhost:" + port};
      this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      String host = request.getHeaders().get("Host");
      boolean hostOk = false;
      for (String h : hosts) hostOk |= h.equalsIgnoreCase(host == null ? "" : host.trim());
      if (!hostOk) return refuse(response, callback, "Host is not this machine's loopback address");
      if (request.getHeaders().get("Origin") != null) return refuse(response, callback, "requests from web pages are refused");
      if (token != null) {
        String given = request.getHeaders().get("X-Batchron-DynamoDB-Token");
        byte[] bytes = given == null ? new byte[0] : given.getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(bytes, token)) return refuse(response, callback, "DynamoDB Local is reached through the local stack's endpoint only");
      }
      return super.handle(request, response, callback);
    }

    private static boolean refuse(Response response, Callback callback, String why) {
      String body = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#AccessDeniedException\",\"message\":\"" + why + "\"}";
      response.setStatus(403);
      response.getHeaders().put("Content-Type", "application/x-amz-json-1.0");
      response.getHeaders().put("Connection", "close");
      response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
      return true;
    }
  }
}
