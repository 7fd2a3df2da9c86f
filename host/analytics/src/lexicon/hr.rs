//! The Croatian lexicons (also read for Bosnian and Serbian).

use super::{Cat, LexiconData, Marker};

pub(super) static HR: LexiconData = LexiconData {
    english_merges: false,
    sentiment: HR_SENTIMENT,
    categories: HR_CATEGORIES,
    tones: HR_TONES,
    negators: "nije nisu nisam nismo niste nisi nema nemam nemamo nemate nemaju \
        nikad nikada ništa nitko niti bez neću neće nećemo nećete nemojte nemoj",
    short_negators: "ne",
    intensifiers: &[
        (0.5, "izuzetno iznimno potpuno totalno skroz jako"),
        (0.3, "vrlo stvarno zaista baš tako previše zbilja posebno"),
        (0.15, "prilično dosta"),
        (-0.3, "malo pomalo donekle"),
    ],
    contrast: "ali no nego međutim",
    stop: HR_STOP,
};

pub(super) const HR_SENTIMENT: &[(f32, &str)] = &[
    (
        0.0,
        "dobar dan, dobro jutro, dobra večer, laku noć, doviđenja, do viđenja, \
         kako ste, možete li mi pomoći, što preporučujete, možete li preporučiti, \
         dobro došli, dobrodošli",
    ),
    (0.3, "ne hvala, ne hvala vam"),
    (0.6, "hvala, hvala vam, zahvaljujem"),
    (
        0.8,
        "u redu, sve u redu, nema problema, nema veze, ništa strašno, bolje, \
         radi, povoljno, povoljan, jeftino, nadam se",
    ),
    (
        1.5,
        "brzo, brza, brzi, na vrijeme, pomogli, pomogla, pomogao, riješeno, riješili, \
         popravljeno, hvala lijepa, lijepo hvala, korisn*, jednostavno",
    ),
    (
        2.0,
        "dobar, dobra, dobro, dobri, dobre, lijep*, zadovolj*, sretan, sretna, sretni, \
         ljubazn*, preporučujem, preporučila, preporučio, svjež*, zdrav*, pouzdan*, \
         strpljiv*, drago mi je, hvala puno, puno hvala, hvala vam puno, \
         hvala vam puno puno, zahvaln*, sviđa, svidjelo, volim, bravo",
    ),
    (
        3.0,
        "odlič*, super, sjajn*, izvrsn*, savršen*, prekrasn*, predivn*, divn*, \
         fantastičn*, obožavam, oduševljen*, najljepša hvala, najbolji, najbolja, \
         najbolje, top",
    ),
    (
        -0.3,
        "oprostite, žao mi je, nažalost ne, čekajte, samo malo",
    ),
    (
        -0.8,
        "čekam, čekamo, čekali, čeka, skupo, skup, skupa, otkazati, otkazao, otkazala, \
         vratiti, nisam siguran, nisam sigurna, nažalost, opet, ponovno",
    ),
    (
        -1.0,
        "problem, problema, problemi, problemom, teško, zbunjen*, sporo, spor, \
         povrat novca, prekasno, ne razumijem, ne shvaćam",
    ),
    (
        -1.5,
        "zabrinut*, brine me, brinem, bojim se, strah, nervoz*, žalb*, prigovor*, \
         pritužb*, reklamacij*, greška, greške, grešku, kasni, kasno, kašnjenje, \
         kašnjenja, nedostaje, izgubljen*, pogrešn*, krivo, krivi, tjednima, danima, \
         mjesecima, šteta, tužan, tužna, smeta, napuknut*, puknut*, \
         ogreben*, curi, uvenu*, osuši*",
    ),
    (
        -2.0,
        "loš*, pokvar*, slomljen*, razbijen*, oštećen*, mrtv*, uginul*, razočaran*, \
         razočaravaju*, nezadovolj*, ljut*, neljubazn*, nepristojn*, ne radi, \
         ne funkcionira, ne valja, još nije stiglo, još nije stigao, još nije stigla, \
         još nisu stigli, nije stiglo, nije stigao, nije stigla, nisu stigli, \
         nikad nije stiglo, nitko nije došao, nitko nije javio, nitko se nije javio, \
         nitko me nije nazvao, dvaput naplaćeno, dva puta naplatili, \
         vratite mi novac, hoću povrat novca, želim povrat novca",
    ),
    (
        -3.0,
        "grozn*, užasn*, strašn*, katastrof*, neprihvatljiv*, sramot*, bezobraz*, \
         bijesan, bijesna, prevara, prevaranti, nikad više, dosta mi je, \
         najgori, najgora, najgore, očajn*, jadno, smiješno",
    ),
];

pub(super) const HR_CATEGORIES: &[(Cat, f32, &str)] = &[
    (
        Cat::Complaint,
        3.0,
        "reklamacij*, žalb*, prigovor*, pritužb*, povrat novca, vratite mi novac, \
         vratiti novac, dvaput naplaćeno, dva puta naplatili, nezadovolj*, ne radi, \
         ne funkcionira",
    ),
    (
        Cat::Complaint,
        2.5,
        "pokvar*, slomljen*, razbijen*, oštećen*, mrtv*, uginul*, uvenu*, osuši*, \
         neljubazn*, nepristojn*, bezobraz*, neprihvatljiv*, zamjen*, vratiti, \
         napuknut*, puknut*",
    ),
    (
        Cat::Complaint,
        1.5,
        "greška, greške, grešku, pogrešn*, krivo, krivi, ogreben*, curi, kvalitet*, \
         problem*, razočaran*",
    ),
    (
        Cat::Delivery,
        3.0,
        "praćenje pošiljke, broj za praćenje, gdje je moj paket, gdje je moja narudžba, \
         gdje je moja pošiljka, kad će stići, kada će stići, kad stiže, kada stiže, \
         još nije stiglo, još nije stigao, još nije stigla, još nisu stigli, \
         nije stiglo, nije stigao, nije stigla, nisu stigli, nikad nije stiglo, \
         adresa dostave, adresu dostave, troškovi dostave, nitko nije došao",
    ),
    (
        Cat::Delivery,
        2.5,
        "dostav*, isporu*, paket*, pošiljk*, kurir*, praćenj*, stig*, stići, stiže, \
         poslan*, poslali, poslati, šaljete, pošta, poštom, poštu, gls, dpd, overseas, \
         vozač, otok, otoke, otoku, otoka",
    ),
    (
        Cat::Delivery,
        1.5,
        "adres*, kasni, kašnjenj*, na vrijeme, vrata, susjed*",
    ),
    (
        Cat::Order,
        3.0,
        "htio bih naručiti, htjela bih naručiti, želim naručiti, želio bih naručiti, \
         željela bih naručiti, htio bih kupiti, htjela bih kupiti, želim kupiti, \
         koliko košta, koliko koštaju, koja je cijena, na zalihi, na stanju, \
         imate li na stanju, poklon bon, poklon bonove, otkazati narudžbu",
    ),
    (
        Cat::Order,
        2.0,
        "naruč*, narudžb*, kupi*, kupovin*, cijen*, košta, koštaju, dostupn*, ponud*, \
         popust*, akcij*, rezerv*, preuzeti, preuzimanje, platiti, plaćanje, račun, \
         otkaz*, jeftinij*, skuplj*",
    ),
    (
        Cat::Order,
        0.8,
        "naručio, naručila, naručili, kupio, kupila, moja narudžba",
    ),
    (
        Cat::Question,
        3.0,
        "imam pitanje, jedno pitanje, radno vrijeme, do kada radite, kada radite, \
         kad radite, radite li, jeste li otvoreni, koliko često, kako da, kako mogu, \
         možete li preporučiti, što preporučujete",
    ),
    (
        Cat::Question,
        2.0,
        "pitanje, pitanja, zanima me, zanimalo bi me, možete li mi reći, \
         znate li, savjet*, preporuč*, je li moguće, da li je moguće, otvoren*, \
         parking, parkirati, gdje se nalazite, prodajete li, upute, objasniti",
    ),
    (
        Cat::Question,
        1.0,
        "imate li, ima li, mogu li, je li, da li, kako, koji, koja, koje",
    ),
    (
        Cat::Question,
        0.5,
        "što, kada, kad, gdje, zašto, tko, možete li",
    ),
];

pub(super) const HR_TONES: &[(Marker, f32, &str)] = &[
    (
        Marker::Anger,
        1.0,
        "sramot*, bezobraz*, neprihvatljiv*, bijes*, ljut*, prevar*, nikad više, \
         dosta mi je, odvjetnik*, katastrof*, smiješno, grozn*, užasn*, idiot*",
    ),
    (
        Marker::Impatience,
        1.5,
        "još uvijek nije, još nije, tjednima, mjesecima, danima, hitno, odmah, \
         koliko još, po treći put, treći put, drugi put",
    ),
    (
        Marker::Impatience,
        1.0,
        "još uvijek, opet, ponovno, konačno, čekam, čekamo, čekali, na čekanju",
    ),
    (
        Marker::Anxiety,
        1.0,
        "zabrinut*, brine me, brinem, bojim se, strah, nadam se, na vrijeme za, nervoz*, \
         je li sigurno",
    ),
    (
        Marker::Confusion,
        1.5,
        "ne razumijem, ne shvaćam, zbunjen*, kako to mislite, što mislite, nije mi jasno, \
         možete li objasniti, možete li ponoviti, molim ponovite",
    ),
    (
        Marker::Confusion,
        0.5,
        "ne znam, nisam siguran, nisam sigurna",
    ),
    (
        Marker::Apology,
        1.0,
        "ispričavam se, isprik*, žao mi je, jako mi je žao, oprostite, nažalost, \
         moja greška, naša greška",
    ),
    (
        Marker::Politeness,
        1.0,
        "molim, molim vas, hvala, hvala vam, izvolite, dobar dan, dobro jutro, \
         dobra večer, biste li, doviđenja, poštovani, gospodine, gospođo, \
         oprostite na smetnji, zahvaljujem",
    ),
    (
        Marker::Friendliness,
        1.0,
        "puno hvala, hvala puno, hvala vam puno, najljepša hvala, ugodan dan, \
         lijep pozdrav, drago mi je, divno, super, odlično, sretno, uživajte, \
         lijepo, prekrasno",
    ),
    (
        Marker::Calm,
        1.0,
        "nema problema, u redu, ništa strašno, polako, nema žurbe, dogovoreno, \
         razumijem, naravno, nema veze",
    ),
];

pub(super) const HR_STOP: &str = "
a ako ali bi bih bila bili bilo bio bismo biste biti blizu bude budu da do dok dva
gdje i ih ili im iz ja je jedan jedna jedno jer jesam jesi jest jeste jesu još ju
k kad kada kako kao koja koje koji kojih kojima koju kroz li me mene meni mi mnogo
moj moja moje moji moju mora može možete mu na nad nakon nam nama nas naš naša naše
naši ne nego neka neki nekog neku nešto netko ni nije nisam nismo niste nisu niti no
o od odmah on ona oni ono onda opet ova ovaj ovdje ove ovo pa pak po pod poslije
pored prema pri prije sa sam samo se sebe sebi si smo ste sve svi svoj svoja svoje
svoju što ta tada taj tako također te tebe tebi ti to toga tome tu tvoj tvoja tvoje
u uz vam vama vas vaš vaša vaše vi više vrlo za zar zato zbog želim želio željela
htio htjela bih hvala molim dobar dan dobro jutro halo bok ok okej evo eto ovako
dakle znači znate znam mislim imam imate ima imamo danas sutra jučer tjedan tjedna
mjesec mjeseca godina godine sat sati minuta ponedjeljak utorak srijeda četvrtak petak
subota nedjelja dva tri četiri pet šest sedam osam devet deset pitanje reći rekli
";
