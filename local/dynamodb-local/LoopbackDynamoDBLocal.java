import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts AWS's DynamoDB Local listening on loopback only. Its own main class binds Jetty to
 * every interface and has no flag for the address, so this launcher builds the server from
 * the same command line, points each connector at 127.0.0.1 before it opens its socket,
 * then starts it. It fails closed: if the server is not shaped as expected it exits
 * instead of starting on every interface.
 *
 * Run in Java's source-file mode by local/dynamodb.ts: `java -cp DynamoDBLocal.jar <this file> <DynamoDB Local flags>`.
 */
public final class LoopbackDynamoDBLocal {
  private LoopbackDynamoDBLocal() {}

  public static void main(String[] args) throws Exception {
    String host = System.getProperty("batchron.dynamodb.host", "127.0.0.1");
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server jetty = (Server) field.get(proxy);
    int bound = 0;
    for (Connector connector : jetty.getConnectors()) {
      if (connector instanceof ServerConnector serverConnector) {
        serverConnector.setHost(host);
        bound++;
      } else {
        System.err.println("batchron: DynamoDB Local has a connector of an unexpected type; refusing to start it on every interface.");
        System.exit(3);
      }
    }
    if (bound == 0) {
      System.err.println("batchron: DynamoDB Local has no connector to bind; refusing to start.");
      System.exit(3);
    }
    proxy.start();
  }
}
