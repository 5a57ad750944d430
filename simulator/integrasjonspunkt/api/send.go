package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sort"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// expiredDescription is the description of LEVETID_UTLOPT when the send-time check finds it.
const expiredDescription = "Levetiden for meldingen er utgått. Må sendes på nytt"

// maxArkivmeldingRead bounds how much of a stored arkivmelding.xml is read at send.
const maxArkivmeldingRead = 64 * mib

// sendMessage serves POST /api/messages/out/{messageId}: step 3, hand the message to delivery (spec
// ip-api §4.8).
func (a *API) sendMessage(r *http.Request) response {
	messageID := mux.Vars(r)["messageId"]
	if err := a.send(r.Context(), messageID); err != nil {
		return fail(err)
	}
	return empty(http.StatusOK)
}

// send runs the real IP's send-time rules (spec ip-api §4.7 send rules) and enqueues the message.
func (a *API) send(ctx context.Context, messageID string) error {
	m, sbd, err := a.loadOutgoing(ctx, messageID)
	if err != nil {
		return err
	}
	typ, service := sbd.Type(), wire.ServiceIdentifier(m.ServiceIdentifier)
	if typ.RequiresFile() && len(m.Files) == 0 {
		return errMissingFile()
	}
	if erdt, has := sbd.ExpectedResponseDateTime(); has && erdt.Before(a.opts.Now()) {
		ev, err := a.opts.Store.RegisterStatus(ctx, messageID, store.Outgoing,
			store.StatusChange{Status: wire.StatusLevetidUtlopt, Description: expiredDescription}, a.opts.StatusQueue)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return errInternal(err)
		}
		a.emit(ev)
		return errTimeToLive(erdt)
	}
	uploaded := map[string]bool{}
	for _, f := range m.Files {
		uploaded[f.Filename] = true
	}
	if typ == wire.TypeArkivmelding {
		am, err := a.storedArkivmelding(m)
		if err != nil {
			return err
		}
		var missing []string
		for _, name := range am.Files {
			if !uploaded[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return errMissingArkivmeldingFile(missing)
		}
	}
	if d, isDigital := sbd.Message.(*wire.Digital); isDigital {
		refs := map[string]bool{}
		for k, v := range d.MetadataFiler {
			refs[k], refs[v] = true, true
		}
		var missing []string
		for name := range refs {
			if !uploaded[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return errFileNotFound(missing)
		}
	}
	if service == wire.ServiceDPI || service == wire.ServiceDPH && typ == wire.TypeDialogmelding {
		hasPrimary := false
		for _, f := range m.Files {
			hasPrimary = hasPrimary || f.Primary
		}
		if !hasPrimary {
			return errMissingPrimaryDocument()
		}
	}
	if d, isDigital := sbd.Message.(*wire.Digital); isDigital && d.Tittel != "" {
		if err := a.opts.Store.UpdateConversationMeta(ctx, messageID, "", d.Tittel); err != nil {
			return errInternal(err)
		}
	}
	err = a.opts.Store.Enqueue(ctx, messageID)
	if errors.Is(err, store.ErrNotFound) {
		return errMessageNotFound(messageID)
	}
	if err != nil {
		return errInternal(err)
	}
	if a.opts.OnSend != nil {
		a.opts.OnSend()
	}
	return nil
}

// storedArkivmelding reads and parses the message's arkivmelding.xml; MissingArkivmeldingException when
// there is none.
func (a *API) storedArkivmelding(m store.OutMessage) (arkivmelding, error) {
	for _, f := range m.Files {
		if f.Filename != arkivmeldingFile {
			continue
		}
		rc, err := a.opts.Store.OpenFile(f)
		if err != nil {
			return arkivmelding{}, errInternal(err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, maxArkivmeldingRead))
		rc.Close()
		if err != nil {
			return arkivmelding{}, errInternal(err)
		}
		am, perr := parseArkivmelding(data)
		if perr != nil {
			return arkivmelding{}, perr
		}
		return am, nil
	}
	return arkivmelding{}, errMissingArkivmelding()
}
