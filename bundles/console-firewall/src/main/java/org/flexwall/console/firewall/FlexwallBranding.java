package org.flexwall.console.firewall;

import org.apache.felix.webconsole.spi.BrandingPlugin;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Component;

/** The console says flexwall: window title, heading, logo and links (the login realm is the security provider's). */
@Component(service = BrandingPlugin.class, property = Constants.SERVICE_RANKING + ":Integer=100")
public class FlexwallBranding implements BrandingPlugin {
    static final String LOGO = "/" + FirewallPage.LABEL + "/res/flexwall-logo.svg";

    @Override
    public String getBrandName() {
        return "flexwall";
    }

    @Override
    public String getProductName() {
        return "flexwall firewall appliance";
    }

    @Override
    public String getProductURL() {
        return "/system/console/" + FirewallPage.LABEL;
    }

    @Override
    public String getProductImage() {
        return LOGO;
    }

    @Override
    public String getVendorName() {
        return "flexwall";
    }

    @Override
    public String getVendorURL() {
        return "/system/console/" + FirewallPage.LABEL;
    }

    @Override
    public String getVendorImage() {
        return LOGO;
    }

    @Override
    public String getFavIcon() {
        return "/" + FirewallPage.LABEL + "/res/flexwall-icon.svg";
    }

    @Override
    public String getMainStyleSheet() {
        return "/" + FirewallPage.LABEL + "/res/flexwall-console.css"; // the console's own, made to fit a phone
    }
}
