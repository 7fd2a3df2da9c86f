//! The German lexicons.

use super::{Cat, LexiconData, Marker};

pub(super) static DE: LexiconData = LexiconData {
    english_merges: false,
    sentiment: DE_SENTIMENT,
    categories: DE_CATEGORIES,
    tones: DE_TONES,
    negators: "nicht kein keine keinen keiner keinem keines nie niemals nichts niemand ohne \
        weder nirgends",
    short_negators: "",
    intensifiers: &[
        (0.5, "extrem äußerst absolut unglaublich total wahnsinnig"),
        (
            0.3,
            "sehr wirklich so echt voll richtig besonders ganz super höchst zutiefst",
        ),
        (0.15, "zu ziemlich recht"),
        (-0.3, "etwas bisschen leicht kaum wenig"),
    ],
    contrast: "aber jedoch sondern trotzdem allerdings",
    stop: DE_STOP,
};

pub(super) const DE_SENTIMENT: &[(f32, &str)] = &[
    (
        0.0,
        "guten tag, guten morgen, guten abend, gute nacht, auf wiedersehen, \
         auf wiederhören, gute frage, wie geht es ihnen, können sie mir helfen, \
         was empfehlen sie, können sie empfehlen",
    ),
    (0.3, "nein danke, nein danke schön"),
    (
        0.6,
        "danke, dankeschön, danke schön, bitte schön, gern geschehen",
    ),
    (
        0.8,
        "in ordnung, alles in ordnung, passt, kein problem, keine sorge, macht nichts, \
         besser, funktioniert, geht wieder, günstig, preiswert, hoffentlich",
    ),
    (
        1.5,
        "schnell, pünktlich, rechtzeitig, gerne, gern, geholfen, gelöst, repariert, \
         vielen dank, lieb, einfach, freundlicherweise",
    ),
    (
        2.0,
        "gut, gute, guten, guter, gutes, schön, schöne, schönen, nett, nette, freundlich*, \
         hilfsbereit, zufrieden, glücklich, froh, prima, empfehlen, empfehle, frisch, \
         gesund, zuverlässig, kompetent, geduldig, freue mich, freut mich, gefällt, \
         gefallen, dankbar, herzlichen dank, sehr geholfen, lob, loben, bestens",
    ),
    (
        3.0,
        "toll, super, klasse, wunderbar, wunderschön, perfekt, ausgezeichnet, hervorragend, \
         großartig, fantastisch, phantastisch, begeistert, liebe, lieben, spitze, \
         traumhaft, genial, tausend dank, vielen herzlichen dank, top",
    ),
    (-0.3, "entschuldigung, tut mir leid"),
    (
        -0.8,
        "warte, wartet, warten, teuer, storniert, stornieren, zurückgeben, zurückschicken, \
         umtauschen, unsicher, nicht sicher, leider",
    ),
    (
        -1.0,
        "problem, probleme, problemen, schwierig, verwirrt, verwirrend, langsam, \
         gewartet, erstattung, rückerstattung, verstehe nicht, verstehe das nicht",
    ),
    (
        -1.5,
        "sorge, sorgen, besorgt, angst, nervös, beschwerde, beschweren, reklamation, \
         reklamieren, fehler, fehlt, fehlen, verloren, verspätet, verspätung, spät, \
         falsch, falsche, falschen, falscher, mangel, mängel, seit wochen, seit tagen, \
         seit monaten, wochenlang, tagelang, schon wieder, immer wieder, warteschleife, \
         geld zurück, schade, traurig, ärgerlich, ärgert, gerissen, zerkratzt, \
         verwelkt, eingegangen, undicht, nervig, lästig",
    ),
    (
        -2.0,
        "schlecht, schlechte, schlechter, schlechten, kaputt*, beschädigt*, defekt*, \
         zerbrochen, gebrochen, tot, abgestorben, enttäuscht, enttäuschend, enttäuschung, \
         unzufrieden, sauer, unfreundlich, frech, funktioniert nicht, geht nicht, \
         geht nicht mehr, immer noch nicht, noch nicht angekommen, nicht angekommen, \
         nie angekommen, nicht gekommen, niemand gekommen, niemand ist gekommen, \
         keiner ist gekommen, nicht geliefert, nie geliefert, doppelt abgebucht, \
         zweimal abgebucht, ich will mein geld zurück, ich möchte mein geld zurück, \
         schlimm, ärger, miese, mies",
    ),
    (
        -3.0,
        "furchtbar, schrecklich, katastrophe, katastrophal, unmöglich, unverschämt*, \
         inakzeptabel, nicht akzeptabel, frechheit, skandal*, zumutung, wütend, \
         lächerlich, nie wieder, schlimmste, schlechteste, betrug, abzocke, \
         sauerei, unverschämtheit, das letzte, eine schande, schande",
    ),
];

pub(super) const DE_CATEGORIES: &[(Cat, f32, &str)] = &[
    (
        Cat::Complaint,
        3.0,
        "beschwer*, reklamation*, reklamier*, geld zurück, rückerstattung, erstatt*, \
         doppelt abgebucht, zweimal abgebucht, funktioniert nicht, geht nicht mehr, \
         nicht zufrieden, unzufrieden",
    ),
    (
        Cat::Complaint,
        2.5,
        "kaputt*, beschädigt*, defekt*, zerbrochen, gebrochen, tot, abgestorben, \
         eingegangen, verwelkt, falsche ware, falscher artikel, unfreundlich, \
         unverschämt*, inakzeptabel, zurückgeben, zurückschicken, umtausch*, ersatz",
    ),
    (
        Cat::Complaint,
        1.5,
        "fehler, mangel, mängel, falsch*, gerissen, zerkratzt, undicht, problem*, \
         enttäuscht, schlechte qualität, qualität",
    ),
    (
        Cat::Delivery,
        3.0,
        "sendungsverfolgung, sendungsnummer, wo ist mein paket, wo ist meine bestellung, \
         wo ist meine lieferung, wann kommt, wann kommt mein paket, wann wird geliefert, \
         noch nicht angekommen, nicht angekommen, nie angekommen, nicht geliefert, \
         nie geliefert, lieferadresse, lieferzeit, lieferung*, liefertermin, versandkosten",
    ),
    (
        Cat::Delivery,
        2.5,
        "liefer*, geliefert, paket*, sendung*, zustell*, kurier*, versand*, versend*, \
         verschickt, geschickt, angekommen, ankommen, ankunft, bote, fahrer, \
         spedition, dhl, ups, gls, dpd, hermes, post, niemand gekommen, \
         niemand ist gekommen, keiner ist gekommen, inseln, insel",
    ),
    (
        Cat::Delivery,
        1.5,
        "adresse, pünktlich, verspät*, zu spät, tür, nachbar*",
    ),
    (
        Cat::Order,
        3.0,
        "ich möchte bestellen, möchte bestellen, ich würde gerne bestellen, \
         ich möchte kaufen, möchte kaufen, was kostet, wie viel kostet, wieviel kostet, \
         was kosten, auf lager, vorrätig, bestellung aufgeben, bestellung stornieren, \
         gutschein, geschenkgutschein, sonderangebot, rabatt",
    ),
    (
        Cat::Order,
        2.0,
        "bestell*, kaufen, kaufe, preis*, kostet, kosten, verfügbar, angebot*, rabatt*, \
         reservier*, abholen, abholung, bezahlen, zahlung, rechnung, storn*, billiger, \
         teuer, interessiere mich",
    ),
    (Cat::Order, 0.8, "bestellt, gekauft, meine bestellung"),
    (
        Cat::Question,
        3.0,
        "ich habe eine frage, eine frage, öffnungszeiten, wann haben sie geöffnet, \
         wann haben sie offen, haben sie geöffnet, haben sie offen, wie lange haben sie, \
         wie oft, wie kann ich, wie soll ich, können sie empfehlen, was empfehlen sie",
    ),
    (
        Cat::Question,
        2.0,
        "frage, fragen, können sie mir sagen, wissen sie, beratung, tipp, tipps, rat, \
         empfehl*, ist es möglich, geöffnet, offen, parken, parkplatz, wo sind sie, \
         verkaufen sie, führen sie, anleitung, erklären",
    ),
    (
        Cat::Question,
        1.0,
        "haben sie, gibt es, kann ich, kann man, wie, welche, welcher",
    ),
    (Cat::Question, 0.5, "was, wann, wo, warum, wer, können sie"),
];

pub(super) const DE_TONES: &[(Marker, f32, &str)] = &[
    (
        Marker::Anger,
        1.0,
        "unverschämt*, frechheit, skandal*, inakzeptabel, nicht akzeptabel, zumutung, \
         wütend, sauer, nie wieder, katastroph*, lächerlich, ein witz, anwalt, \
         es reicht, reicht mir, die nase voll, abzocke, betrug, sauerei, idiot*",
    ),
    (
        Marker::Impatience,
        1.5,
        "immer noch nicht, schon wieder, immer wieder, seit wochen, seit tagen, \
         seit monaten, wochenlang, tagelang, wie lange noch, sofort, dringend, \
         zum dritten mal, zum zweiten mal",
    ),
    (
        Marker::Impatience,
        1.0,
        "immer noch, noch nicht, endlich, warte, warten, gewartet, warteschleife, heute noch",
    ),
    (
        Marker::Anxiety,
        1.0,
        "sorge, sorgen, besorgt, angst, nervös, hoffentlich, ich hoffe, rechtzeitig, \
         ist das sicher, was wenn",
    ),
    (
        Marker::Confusion,
        1.5,
        "verstehe nicht, verstehe das nicht, verstehe ich nicht, verwirrt, verwirrend, \
         was meinen sie, wie bitte, keine ahnung, unklar, können sie das erklären",
    ),
    (
        Marker::Confusion,
        0.5,
        "ich weiß nicht, nicht sicher, unsicher",
    ),
    (
        Marker::Apology,
        1.0,
        "entschuldigung, entschuldigen sie, tut mir leid, tut uns leid, es tut mir leid, \
         es tut uns leid, bedauer*, verzeihung, mein fehler, unser fehler",
    ),
    (
        Marker::Politeness,
        1.0,
        "bitte, danke, vielen dank, könnten sie, würden sie, dürfte ich, guten tag, \
         guten morgen, guten abend, gerne, gern geschehen, auf wiederhören, \
         auf wiedersehen, entschuldigen sie die störung, herr, frau",
    ),
    (
        Marker::Friendliness,
        1.0,
        "schönen tag, schönes wochenende, einen schönen tag, freut mich, freue mich, \
         sehr nett, wunderbar, super, toll, herzlichen dank, vielen herzlichen dank, \
         tausend dank, liebe grüße, perfekt, klasse, prima",
    ),
    (
        Marker::Calm,
        1.0,
        "kein problem, keine sorge, alles klar, macht nichts, in ordnung, passt, \
         keine eile, kein stress, verstehe, verstanden, lassen sie sich zeit",
    ),
];

pub(super) const DE_STOP: &str = "
aber alle allem allen aller alles als also am an ander andere anderen auch auf aus
bei beim bin bis bitte bist da dabei dadurch dafür dagegen daher damit dann dar darauf
darum das dass dein deine dem den denn der des dessen deshalb dich die dies diese diesem
diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines einfach
einmal er es etwa etwas euch euer eure für gegen gehabt gewesen habe haben hat hatte
hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im in ins ist ja
jede jedem jeden jeder jedes jetzt kann kannst können könnte könnten man manche mehr
mein meine meinem meinen meiner mich mir mit muss musste müssen nach nein noch nun nur
ob oder ohne schon sehr sein seine seinem seinen seiner seit sich sie sind so solche
soll sollte sondern um und uns unser unsere unter viel vom von vor wann war waren warum
was weil welche welchem welchen welcher welches wenn wer werde werden wie wieder will
wir wird wirst wo wollen wollte würde würden zu zum zur zwar zwischen
ah äh ähm hm hallo tschüss okay ok ja jawohl genau gut also mal halt eben gerade
danke dankeschön tag morgen abend heute gestern woche wochen monat monate jahr jahre
stunde stunden minute minuten montag dienstag mittwoch donnerstag freitag samstag
sonntag zwei drei vier fünf sechs sieben acht neun zehn frage fragen sagen gesagt
möchte möchten würde gerne gern wissen glaube denke bisschen guten gute guter gutes
hallo tag vielen dank bitte schön
";
