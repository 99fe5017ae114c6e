import java.util.Enumeration;
import java.util.Locale;
import java.util.ResourceBundle;

/**
 * Prints pgjdbc's translated messages as JSON lines {"lang","msgid","msgstr"}: the driver keeps its
 * translations as compiled ResourceBundle classes (org.postgresql.translation.messages_xx), so
 * they are read the way the driver reads them. Run with the pgjdbc jar on the class path and the
 * language codes as arguments (java -cp postgresql.jar PgjdbcMessages.java de fr …).
 */
public class PgjdbcMessages {
  public static void main(String[] args) {
    for (String lang : args) {
      ResourceBundle bundle;
      try {
        bundle = (ResourceBundle) Class.forName("org.postgresql.translation.messages_" + lang).getDeclaredConstructor().newInstance();
      } catch (ReflectiveOperationException e) {
        continue;
      }
      for (Enumeration<String> keys = bundle.getKeys(); keys.hasMoreElements(); ) {
        String key = keys.nextElement();
        if (key.isEmpty()) continue;
        Object value = bundle.getObject(key);
        if (!(value instanceof String)) continue;
        System.out.println("{\"lang\":" + json(lang) + ",\"msgid\":" + json(key) + ",\"msgstr\":" + json((String) value) + "}");
      }
    }
  }

  private static String json(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\t': out.append("\\t"); break;
        case '\r': out.append("\\r"); break;
        default:
          if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
      }
    }
    return out.append('"').toString();
  }
}
