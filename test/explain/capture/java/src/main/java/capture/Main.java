package capture;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Properties;

/**
 * Prints the exception a Java driver throws for one connection attempt, as an application's log
 * shows it (printStackTrace). Used by ../capture.ts to build the explain corpus.
 *
 *   java -cp … capture.Main pgjdbc <jdbc-url> <user> <password> [sql…]
 *   java -cp … capture.Main cassandra <host> <port> <user> <password> <timeoutMs> [tls] [keyspace=… dc=… protocol=V3 cql=… consistency=…]
 */
public final class Main {
  public static void main(String[] args) throws Exception {
    try {
      if (args[0].equals("pgjdbc")) {
        Properties props = new Properties();
        if (!args[2].isEmpty()) props.setProperty("user", args[2]);
        if (!args[3].isEmpty()) props.setProperty("password", args[3]);
        props.setProperty("connectTimeout", "3");
        props.setProperty("socketTimeout", "3");
        try (Connection connection = DriverManager.getConnection(args[1], props)) {
          // Further arguments: statements to run once connected ("@sleep <ms>" pauses).
          for (int i = 4; i < args.length; i++) {
            if (args[i].startsWith("@sleep ")) Thread.sleep(Long.parseLong(args[i].substring(7)));
            else try (java.sql.Statement statement = connection.createStatement()) { statement.execute(args[i]); }
          }
          System.out.println("connected");
        }
      } else {
        Duration timeout = Duration.ofMillis(Long.parseLong(args[5]));
        java.util.Map<String, String> options = new java.util.HashMap<>();
        boolean tls = false;
        for (int i = 6; i < args.length; i++) {
          if (args[i].equals("tls")) tls = true;
          else options.put(args[i].substring(0, args[i].indexOf('=')), args[i].substring(args[i].indexOf('=') + 1));
        }
        var loader = DriverConfigLoader.programmaticBuilder()
            .withDuration(DefaultDriverOption.CONNECTION_CONNECT_TIMEOUT, timeout)
            .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, timeout)
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, timeout);
        if (options.containsKey("protocol")) loader = loader.withString(DefaultDriverOption.PROTOCOL_VERSION, options.get("protocol"));
        CqlSessionBuilder builder = CqlSession.builder()
            .withConfigLoader(loader.build())
            .addContactPoint(InetSocketAddress.createUnresolved(args[1], Integer.parseInt(args[2])))
            .withLocalDatacenter(options.getOrDefault("dc", "datacenter1"));
        if (!args[3].isEmpty()) builder = builder.withAuthCredentials(args[3], args[4]);
        if (options.containsKey("keyspace")) builder = builder.withKeyspace(options.get("keyspace"));
        if (tls) builder = builder.withSslContext(javax.net.ssl.SSLContext.getDefault());
        try (CqlSession session = builder.build()) {
          // One statement once connected, at a consistency level (LOCAL_QUORUM, …).
          if (options.containsKey("cql")) {
            session.execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance(options.get("cql"))
                .setConsistencyLevel(com.datastax.oss.driver.api.core.DefaultConsistencyLevel.valueOf(options.getOrDefault("consistency", "LOCAL_ONE"))));
          }
          System.out.println("connected");
        }
      }
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(1);
    }
  }
}
