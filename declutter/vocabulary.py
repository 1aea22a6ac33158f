"""Word and character lists the featurizer counts, in many languages.

The lists are written for this project from general knowledge of web interfaces and of each
language's most frequent function words; they are densities a logistic model weighs, not rules.
No list may be the only evidence for a language: shape features carry pages in languages the
lists do not cover. Lower-case only; matching is on lower-cased ``\\w+`` words, so multi-word
phrases are listed by their words and accents are kept (``menü``, ``précédent``).
"""

from __future__ import annotations

# Words that name interface widgets and icon sprites: a line full of them is a sprite dump or an
# icon bar ("chevron downicon closeicon searchicon ...").
ICON_WORDS = frozenset(
    """
    icon icons ico chevron caret arrow arrows svg sprite glyph btn button logo thumbnail thumb
    avatar hamburger dropdown tooltip modal popup overlay widget breadcrumb breadcrumbs spinner
    fa fas fab far material symbols outlined
    """.split()
)

# A glued sprite name ("bookmarkicon", "v-compressicon") ends in this.
ICON_SUFFIX = "icon"

# Navigation, actions, account, sharing, legal and advertising words of site chrome, in English,
# German, French, Spanish, Italian, Portuguese, Dutch, Polish, Russian, Ukrainian, Czech,
# Turkish and Arabic.
UI_WORDS = frozenset(
    """
    menu home search share print close login logout signin signup sign register subscribe
    unsubscribe newsletter cookie cookies accept decline reject settings preferences privacy
    terms policy copyright rights reserved sitemap rss feed permalink advertisement advertising
    sponsored ads ad loading submit filter sort tags tag categories archive archives related
    popular trending skip toggle navigation nav download cart basket checkout account wishlist
    follow bookmark bookmarks save copy link expand collapse reply replies comment comments
    like likes tweet facebook twitter instagram youtube linkedin pinterest whatsapp telegram
    reddit tiktok email mail previous prev next back top more read continue view views
    contact about faq help support careers imprint login password username forgot
    teilen drucken suche suchen anmelden abmelden registrieren abonnieren schließen menü weiter
    zurück kommentar kommentare mehr startseite impressum datenschutz kontakt herunterladen
    warenkorb konto folgen speichern akzeptieren ablehnen einstellungen werbung anzeige lesen
    weiterlesen
    partager imprimer rechercher recherche connexion inscription abonner abonnez fermer suivant
    précédent commentaires commentaire accueil lire suite télécharger panier compte suivre
    enregistrer accepter refuser paramètres publicité mentions légales confidentialité
    compartir imprimir buscar búsqueda iniciar sesión registrarse suscribirse suscríbete cerrar
    menú siguiente anterior comentarios inicio leer más descargar carrito cuenta seguir guardar
    aceptar rechazar configuración publicidad privacidad contacto
    condividi stampa cerca accedi registrati iscriviti chiudi successivo precedente commenti
    leggi scarica carrello segui accetta rifiuta pubblicità
    compartilhar partilhar pesquisar entrar assine fechar próximo comentários leia baixar
    carrinho conta aceitar recusar publicidade
    delen afdrukken zoeken inloggen aanmelden abonneren sluiten volgende vorige reacties lees
    meer downloaden winkelwagen volgen opslaan accepteren weigeren advertentie
    udostępnij drukuj szukaj wyszukaj zaloguj wyloguj zarejestruj subskrybuj zamknij dalej
    wstecz następny poprzedni komentarze komentarz główna czytaj więcej pobierz koszyk konto
    obserwuj zapisz akceptuj odrzuć ustawienia reklama
    поделиться печать распечатать поиск найти войти вход выход регистрация подписаться подписка
    закрыть меню далее назад вперёд комментарии комментарий главная читать ещё скачать корзина
    аккаунт профиль сохранить принять отклонить настройки реклама контакты
    поділитися пошук увійти підписатися закрити головна читати більше коментарі
    sdílet tisk hledat přihlásit registrace odebírat zavřít další předchozí komentáře číst více
    paylaş yazdır ara giriş kayıt abone kapat sonraki önceki yorumlar oku devamı
    مشاركة طباعة بحث تسجيل دخول اشترك إغلاق القائمة التالي السابق تعليقات الرئيسية اقرأ المزيد
    تحميل إعلان
    """.split()
)

# The most frequent function words of the same languages: running text is full of them, menus
# and link lists are not.
FUNCTION_WORDS = frozenset(
    """
    the a an and or of to in is are was were be been that this it for on with as by at from but
    not have has had which who they we you he she its their there can will would if so than then
    these those also into about
    der die das und ist nicht ein eine einen dem den des mit von zu auf für sich auch es im sie
    wir ich er dass wird werden wurde sind war aber als wie bei nach noch oder nur aus um über
    le la les et est des du un une que qui dans pour pas sur au aux avec ce cette il elle ils
    nous vous sont été mais ou comme par se son sa ses leur ont
    el los las y del en una es por con para no su sus al lo pero fue son ha han este esta está
    muy también entre
    il lo gli di che è e per non sono nel della dei delle anche ma questo questa
    o os do da dos das em um não na foi são ao mas
    de het een van dat op te voor niet zijn er ook aan om maar door
    и в не на что с по как это к он она они из за для от так но было был была были его ее её
    их мы вы я же бы уже или если при также только
    i w się z że jest jak co ale po przez dla są była tak jego jej oraz czy też
    v je s ve jako pro jsou by
    och att det som är på för med av og er ikke
    ve bir bu ile için çok olan daha gibi
    في من على إلى أن عن مع هذا هذه التي الذي كان لا ما هو هي
    """.split()
)

# Chinese and Japanese function characters: CJK text has no spaces, so these are counted as
# characters (的 "of", 了 perfective, 是 "is"; の, は, が, を particles...).
CJK_FUNCTION_CHARS = "的了是在和有我他这不也就都与而及之为以于其の は が を に で と も た し て".replace(" ", "")

# Characters that end a sentence (Latin, CJK full-width, Arabic, Devanagari, Urdu).
TERMINAL_CHARS = ".!?。！？؟।۔…‼⁉"
# Closing quotes and brackets that may follow the sentence end: 'He said "yes."'
CLOSING_CHARS = "\"'”’»)]」』›"
# Characters that separate items on one line: breadcrumbs, link bars, footers.
SEPARATOR_CHARS = "|•·»›‹«/\\►▶▸◂◦▪■□●○→←⋅∙‣⁃¦"
# Characters that open a list item when they start a line.
BULLET_CHARS = "•·▪◦●○■□‣⁃-*+–—►▶▸"
COLON_CHARS = ":：∶"
COMMA_CHARS = ",;，、；؛"
