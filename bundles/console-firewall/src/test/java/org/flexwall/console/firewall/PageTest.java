package org.flexwall.console.firewall;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PageTest {

    @Test
    void theMarkupCarriesNoConsoleVariableAndNoUnescapedValue() {
        String html = Page.html("/system/console/firewall\"><script>x</script>${appRoot}", "a\"b");
        assertFalse(html.contains("${"), "the console would replace it");
        assertFalse(html.contains("<script>x"), html);
        assertTrue(html.contains("data-token=\"a&quot;b\""), html);
    }

    @Test
    void aTokenIsValidForItsUserOnly() {
        ActionToken t = new ActionToken();
        assertTrue(t.valid("admin", t.forUser("admin")));
        assertFalse(t.valid("other", t.forUser("admin")));
        assertFalse(t.valid("admin", new ActionToken().forUser("admin")), "a token of another start is void");
        assertFalse(t.valid("admin", null));
    }
}
