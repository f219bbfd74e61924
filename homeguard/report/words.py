"""The report's words in English and Dutch: countries, sizes, and the sentences anyone
can act on. Names that devices chose are quoted where they appear in a sentence."""

from __future__ import annotations

# ISO 3166 codes of the countries a household's data usually reaches: (English, Dutch).
COUNTRIES: dict[str, tuple[str, str]] = {
    "US": ("the United States", "de Verenigde Staten"),
    "CA": ("Canada", "Canada"),
    "MX": ("Mexico", "Mexico"),
    "BR": ("Brazil", "Brazilië"),
    "AR": ("Argentina", "Argentinië"),
    "GB": ("the United Kingdom", "het Verenigd Koninkrijk"),
    "IE": ("Ireland", "Ierland"),
    "NL": ("the Netherlands", "Nederland"),
    "BE": ("Belgium", "België"),
    "LU": ("Luxembourg", "Luxemburg"),
    "DE": ("Germany", "Duitsland"),
    "FR": ("France", "Frankrijk"),
    "ES": ("Spain", "Spanje"),
    "PT": ("Portugal", "Portugal"),
    "IT": ("Italy", "Italië"),
    "AT": ("Austria", "Oostenrijk"),
    "CH": ("Switzerland", "Zwitserland"),
    "DK": ("Denmark", "Denemarken"),
    "SE": ("Sweden", "Zweden"),
    "NO": ("Norway", "Noorwegen"),
    "FI": ("Finland", "Finland"),
    "IS": ("Iceland", "IJsland"),
    "PL": ("Poland", "Polen"),
    "CZ": ("Czechia", "Tsjechië"),
    "SK": ("Slovakia", "Slowakije"),
    "SI": ("Slovenia", "Slovenië"),
    "HU": ("Hungary", "Hongarije"),
    "RO": ("Romania", "Roemenië"),
    "BG": ("Bulgaria", "Bulgarije"),
    "GR": ("Greece", "Griekenland"),
    "HR": ("Croatia", "Kroatië"),
    "EE": ("Estonia", "Estland"),
    "LV": ("Latvia", "Letland"),
    "LT": ("Lithuania", "Litouwen"),
    "CY": ("Cyprus", "Cyprus"),
    "MT": ("Malta", "Malta"),
    "LI": ("Liechtenstein", "Liechtenstein"),
    "UA": ("Ukraine", "Oekraïne"),
    "RU": ("Russia", "Rusland"),
    "TR": ("Turkey", "Turkije"),
    "IL": ("Israel", "Israël"),
    "AE": ("the United Arab Emirates", "de Verenigde Arabische Emiraten"),
    "SA": ("Saudi Arabia", "Saoedi-Arabië"),
    "IN": ("India", "India"),
    "CN": ("China", "China"),
    "HK": ("Hong Kong", "Hongkong"),
    "TW": ("Taiwan", "Taiwan"),
    "KR": ("South Korea", "Zuid-Korea"),
    "JP": ("Japan", "Japan"),
    "SG": ("Singapore", "Singapore"),
    "MY": ("Malaysia", "Maleisië"),
    "TH": ("Thailand", "Thailand"),
    "VN": ("Vietnam", "Vietnam"),
    "ID": ("Indonesia", "Indonesië"),
    "PH": ("the Philippines", "de Filipijnen"),
    "AU": ("Australia", "Australië"),
    "NZ": ("New Zealand", "Nieuw-Zeeland"),
    "ZA": ("South Africa", "Zuid-Afrika"),
    "KY": ("the Cayman Islands", "de Kaaimaneilanden"),
}
LANGUAGES = ("en", "nl")
PURPOSES_NL = {
    "advertising": "reclame",
    "analytics": "analyse",
    "telemetry": "telemetrie",
    "cloud": "cloud",
    "cdn": "cdn",
    "content": "media",
    "messaging": "berichten",
    "social": "sociaal",
    "search": "zoeken",
    "shopping": "winkelen",
    "software": "software",
    "smart-home": "slim huis",
    "payments": "betalen",
    "security": "beveiliging",
}

TEXT = {
    "en": {
        "title": "Where your data goes",
        "period_week": "this week",
        "period_days": "in the last {days} days",
        "unknown_org": "unknown (no name)",
        "totals_only": "totals only (metadata_only: no organisations or names are kept)",
        "sent_to": "{device} sent {amount} to {org}{where} {period}.",
        "sent_to_two": "{device} sent {amount} to {org}{where} and {amount2} to {org2}{where2} {period}.",
        "sent_total": "{device} sent {amount} and received {received} {period}.",
        "outside_eea": "{share} of its data went to servers outside the EU and EEA, where European privacy law does not protect it.",
        "inside_eea": "All of its data stayed with servers inside the EU and EEA.",
        "trackers": "It contacted {count} tracking or telemetry companies: {names}.",
        "trackers_one": "It contacted a tracking or telemetry company: {names}.",
        "new": "New since the period before: {names}.",
        "more": "It sent {share} more than in the period before ({amount}).",
        "less": "It sent {share} less than in the period before ({amount}).",
        "none": "HomeGuard saw no data leave the house in this period.",
        "via": "via {cdn}",
        "device": "Device",
        "organisation": "Organisation",
        "law": "Whose law",
        "servers": "Servers in",
        "sent": "Sent",
        "received": "Received",
        "connections": "Connections",
        "purpose": "Purpose",
        "tracker": "Tracker",
        "yes": "yes",
        "household": "Household",
        "chart": "Data sent and received per organisation by {device}",
        "legend": "sent (top bar), received (bottom bar)",
        "table": "The same figures as a table",
        "from_to": "{first} to {last}",
    },
    "nl": {
        "title": "Waar je gegevens heen gaan",
        "period_week": "deze week",
        "period_days": "in de afgelopen {days} dagen",
        "unknown_org": "onbekend (geen naam)",
        "totals_only": "alleen totalen (metadata_only: geen organisaties of namen bewaard)",
        "sent_to": "{device} stuurde {period} {amount} naar {org}{where}.",
        "sent_to_two": "{device} stuurde {period} {amount} naar {org}{where} en {amount2} naar {org2}{where2}.",
        "sent_total": "{device} stuurde {period} {amount} en ontving {received}.",
        "outside_eea": "{share} van de gegevens ging naar servers buiten de EU en EER, waar de Europese privacywet ze niet beschermt.",
        "inside_eea": "Alle gegevens bleven bij servers binnen de EU en EER.",
        "trackers": "Het maakte contact met {count} bedrijven die volgen of telemetrie verzamelen: {names}.",
        "trackers_one": "Het maakte contact met een bedrijf dat volgt of telemetrie verzamelt: {names}.",
        "new": "Nieuw sinds de periode ervoor: {names}.",
        "more": "Het stuurde {share} meer dan in de periode ervoor ({amount}).",
        "less": "Het stuurde {share} minder dan in de periode ervoor ({amount}).",
        "none": "HomeGuard zag in deze periode geen gegevens het huis verlaten.",
        "via": "via {cdn}",
        "device": "Apparaat",
        "organisation": "Organisatie",
        "law": "Welk recht",
        "servers": "Servers in",
        "sent": "Verstuurd",
        "received": "Ontvangen",
        "connections": "Verbindingen",
        "purpose": "Doel",
        "tracker": "Volger",
        "yes": "ja",
        "household": "Huishouden",
        "chart": "Verstuurde en ontvangen gegevens per organisatie van {device}",
        "legend": "verstuurd (bovenste balk), ontvangen (onderste balk)",
        "table": "Dezelfde cijfers als tabel",
        "from_to": "{first} tot en met {last}",
    },
}


def country_name(code: str | None, language: str) -> str:
    if not code:
        return "?"
    names = COUNTRIES.get(code.upper())
    if names is None:
        return code.upper()
    return names[LANGUAGES.index(language)]


def purpose_name(purpose: str | None, language: str) -> str:
    if not purpose:
        return ""
    return PURPOSES_NL.get(purpose, purpose) if language == "nl" else purpose


def size(count: int) -> str:
    """Bytes as a person reads them: 83 MB, 4.2 GB, 512 kB (decimal units)."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= factor:
            value = count / factor
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{count} B"


def percent(share: float) -> str:
    return f"{share * 100:.0f}%"
