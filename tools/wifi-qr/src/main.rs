//! Host tool that draws the booth's "scan to join" sign: a QR code of the
//! open Wi-Fi network, as SVG, with the network's name written under it.
//!
//! Phone cameras join a network from a `WIFI:T:nopass;S:<ssid>;;` code (the
//! ZXing format that Android and iOS read). The QR matrix comes from `qrcode`.
//!
//! `wifi-qr [--ssid NAME] [--out FILE|-]`: without `--out`, or with `-`, the
//! SVG goes to standard output.

use std::process::ExitCode;

use qrcode::render::svg;
use qrcode::QrCode;

/// The network name `docs/booth.md` suggests.
const DEFAULT_SSID: &str = "Play 2048 (no internet)";

/// The line under the network's name.
const HINT: &str = "Scan with the camera, join, play 2048";

/// Size of one QR module in SVG units.
const MODULE: u32 = 10;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (ssid, out) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("wifi-qr: {message}\nusage: wifi-qr [--ssid NAME] [--out FILE|-]");
            return ExitCode::from(2);
        }
    };
    let sign = match sign(&ssid) {
        Ok(sign) => sign,
        Err(message) => {
            eprintln!("wifi-qr: {message}");
            return ExitCode::FAILURE;
        }
    };
    match out.as_deref() {
        None | Some("-") => print!("{sign}"),
        Some(path) => {
            if let Err(error) = std::fs::write(path, &sign) {
                eprintln!("wifi-qr: cannot write {path}: {error}");
                return ExitCode::FAILURE;
            }
            eprintln!("wifi-qr: wrote {path} for {}", payload(&ssid));
        }
    }
    ExitCode::SUCCESS
}

/// `--ssid NAME` (default [`DEFAULT_SSID`]) and `--out FILE`.
fn parse_args(args: &[String]) -> Result<(String, Option<String>), String> {
    let (mut ssid, mut out) = (String::from(DEFAULT_SSID), None);
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--ssid" => ssid = value?.clone(),
            "--out" => out = Some(value?.clone()),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok((ssid, out))
}

/// The text in the QR code for an open network called `ssid`.
fn payload(ssid: &str) -> String {
    format!("WIFI:T:nopass;S:{};;", escape_wifi(ssid))
}

/// The WIFI: format separates fields with `;` and `:`; a backslash escapes
/// those and `\`, `,` and `"` inside a value.
fn escape_wifi(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ';' | ',' | ':' | '"') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Font size for `text` to fit in `width` (a sans-serif letter is about
/// 0.6 em wide), at most `largest`.
fn font_size(text: &str, largest: u32, width: u32) -> u32 {
    let letters = text.chars().count().max(1) as u32;
    largest.min((width - 2 * MODULE) * 10 / (6 * letters))
}

/// Text for inside SVG elements and attributes.
fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The printable sign: the QR code with the network's name and a hint below.
fn sign(ssid: &str) -> Result<String, String> {
    if ssid.is_empty() || ssid.len() > 32 {
        return Err(format!("an SSID has 1 to 32 bytes, {ssid:?} has {}", ssid.len()));
    }
    let code = QrCode::new(payload(ssid).as_bytes()).map_err(|e| format!("cannot encode: {e}"))?;
    let qr = code.render::<svg::Color>().quiet_zone(true).module_dimensions(MODULE, MODULE).build();
    // Nest the code's own <svg> element; drop its XML declaration.
    let qr = qr.find("<svg").map_or(qr.as_str(), |start| &qr[start..]);
    let side = (code.width() as u32 + 8) * MODULE;
    let name = escape_xml(ssid);
    Ok(format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {height}\">\n",
            "<title>Wi-Fi {name}</title>\n",
            "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
            "{qr}\n",
            "<g font-family=\"sans-serif\" text-anchor=\"middle\" fill=\"#000\">\n",
            "<text x=\"{middle}\" y=\"{line1}\" font-size=\"{big}\">{name}</text>\n",
            "<text x=\"{middle}\" y=\"{line2}\" font-size=\"{small}\">{hint}</text>\n",
            "</g>\n</svg>\n",
        ),
        side = side,
        height = side + 9 * MODULE,
        name = name,
        qr = qr,
        middle = side / 2,
        line1 = side + 3 * MODULE,
        line2 = side + 7 * MODULE,
        big = font_size(ssid, 4 * MODULE, side),
        small = font_size(HINT, 3 * MODULE, side),
        hint = HINT,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wifi_special_characters_are_escaped() {
        assert_eq!(escape_wifi(r#"a\b;c,d:e"f"#), r#"a\\b\;c\,d\:e\"f"#);
        assert_eq!(payload(DEFAULT_SSID), "WIFI:T:nopass;S:Play 2048 (no internet);;");
        assert_eq!(payload("Café; 2048"), "WIFI:T:nopass;S:Café\\; 2048;;");
    }

    #[test]
    fn sign_is_an_svg_with_the_name() {
        let svg = sign("Tom & Jerry <3").unwrap();
        assert!(svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<?xml").count(), 1);
        assert_eq!(svg.matches("<svg").count(), 2);
        assert!(svg.contains("<path fill=\"#000\" d=\"M"));
        assert!(svg.contains(">Tom &amp; Jerry &lt;3</text>"));
    }

    #[test]
    fn ssid_length_is_checked() {
        assert!(sign("").is_err());
        assert!(sign(&"x".repeat(33)).is_err());
        assert!(sign(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn arguments_default_to_the_booth_network() {
        let args = |list: &[&str]| parse_args(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(args(&[]), Ok((String::from(DEFAULT_SSID), None)));
        assert_eq!(args(&["--out", "-", "--ssid", "X"]), Ok((String::from("X"), Some(String::from("-")))));
        assert!(args(&["--ssid"]).is_err());
        assert!(args(&["--colour", "red"]).is_err());
    }
}
